import { EvidentError } from '../errors.js';
import { MAX_JSON_DEPTH, tooDeep } from '../util/strict-json.js';

/**
 * Canonical JSON read straight off a file's text, for files already in canonical order — what the
 * reference and evident write (sorted keys). A first pass checks, without writing anything, everything
 * canonical JSON would change: object keys strictly ascending by code point (UTF-8 byte order is code
 * point order), strings with no escapes but `\"` and `\\`, integers only. Where any of that fails the
 * text is left as it was and the caller encodes the parsed value instead. Otherwise a second pass drops
 * the insignificant whitespace in place, and the member's bytes are then exactly
 * `canonicalJsonBytes(JSON.parse(text)[member])`, at a fraction of the cost on a large link.
 *
 * In place, because fresh memory is dear: a 35 MB link costs more in first-touched pages than in the
 * scan of it. Numbers that canonical JSON refuses (fractions, exponents, integers beyond 2^53) are
 * errors here, as in parseStrictJson; numbers after the point where it gives up are left to that function.
 * So is nesting deeper than MAX_JSON_DEPTH: the scan recurses per level.
 */

/**
 * Where one artifact list of a link (`signed.materials` or `signed.products`) lies, for a list the scan
 * found to be exactly what a link's artifact validation accepts: an object of objects of non-empty hex
 * strings, with no escape in any key. Offsets are byte offsets into the canonical document.
 */
export interface ArtifactListSpan {
  /** The list's value `{…}`. */
  readonly start: number;
  readonly end: number;
  /** How many artifacts it holds. */
  readonly count: number;
  /**
   * Four offsets per artifact: its path (inside the quotes) [start, end), then its digest object
   * `{"sha256":"…"}` [start, end). Paths ascend in byte (= code point) order.
   */
  readonly entries: Int32Array;
}

/** A metadata document made canonical in place. */
export interface CanonicalDocument {
  /** The whole document, canonical: a view of the start of the buffer it was made from. */
  readonly bytes: Buffer;
  /** Where `signed` lies in `bytes`: the bytes its signatures are over. */
  readonly signedStart: number;
  readonly signedEnd: number;
  /** The well-formed artifact lists of `signed`. */
  readonly lists: { readonly materials?: ArtifactListSpan; readonly products?: ArtifactListSpan };
}

/**
 * Makes a metadata document canonical in place (see above), locating its `signed` member and, when that
 * is a link, every artifact of its `materials` and `products` lists: their 10^5 paths and digests are
 * read once, and nothing but offsets is allocated for them. Returns undefined, with `bytes` unchanged,
 * when the text is not canonical as written or has no `signed` object member.
 */
export function canonicalizeInPlace(bytes: Buffer, file?: string): CanonicalDocument | undefined {
  const scanner = new Scanner(bytes, file);
  let signed: { start: number; end: number } | undefined;
  try {
    signed = scanner.document(SIGNED, true);
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
  if (signed === undefined) return undefined;
  const length = compactInPlace(bytes);
  if (length !== scanner.length) throw new Error(`canonical-from-text: compaction gave ${length} bytes, the scan counted ${scanner.length}`);
  return { bytes: bytes.subarray(0, length), signedStart: signed.start, signedEnd: signed.end, lists: Object.fromEntries(scanner.lists) };
}

/** The canonical bytes of one top-level member, from a copy of `bytes`; undefined where canonicalizeInPlace gives up. */
export function canonicalMemberFromText(bytes: Uint8Array, member: string, file?: string): Buffer | undefined {
  const copy = Buffer.from(bytes);
  const scanner = new Scanner(copy, file);
  let found: { start: number; end: number } | undefined;
  try {
    found = scanner.document(Buffer.from(member, 'utf8'), false);
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
  if (found === undefined) return undefined;
  compactInPlace(copy);
  return copy.subarray(found.start, found.end);
}

const GIVE_UP = Symbol('not canonical as written');
/** An artifact list that is canonical but not plain hex digests: it is scanned again the general way. */
const NOT_PLAIN = Symbol('not a plain artifact list');
const SIGNED = Buffer.from('signed');
const PAYLOAD_TYPE = Buffer.from('payloadType');
const MATERIALS = Buffer.from('materials');
const PRODUCTS = Buffer.from('products');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;

/**
 * The checking pass. It reads the input and writes nothing; `o` counts where each byte will be once
 * the whitespace is gone, which is what the recorded offsets are.
 */
class Scanner {
  private pos = 0;
  private o = 0;
  /** How many objects and lists are open: the scan recurses per level, so a limit keeps the stack. */
  private depth = 0;
  /** Whether the last string scanned held an escape. */
  private escaped = false;
  /** The artifact lists of `signed` found well-formed. */
  readonly lists = new Map<'materials' | 'products', ArtifactListSpan>();

  constructor(
    private readonly b: Buffer,
    private readonly file: string | undefined,
  ) {}

  /** The length of the canonical document. */
  get length(): number {
    return this.o;
  }

  /** Walks the top-level object; returns where the member's value will lie (undefined if absent). */
  document(name: Uint8Array, link: boolean): { start: number; end: number } | undefined {
    this.ws();
    this.expect(OPEN_OBJECT);
    this.o++;
    this.depth = 1;
    let found: { start: number; end: number } | undefined;
    this.ws();
    if (this.b[this.pos] === CLOSE_OBJECT) throw GIVE_UP;
    for (;;) {
      this.ws();
      const [ks, ke] = this.string();
      this.o += ke - ks;
      this.ws();
      this.expect(COLON);
      this.o++;
      this.ws();
      const start = this.o;
      // a DSSE envelope is read as one whatever else it holds: no use scanning its payload for `signed`
      if (link && this.isKey(PAYLOAD_TYPE, ks + 1, ke - 1)) throw GIVE_UP;
      const isMember = this.isKey(name, ks + 1, ke - 1);
      if (isMember && link && this.b[this.pos] === OPEN_OBJECT) this.object(true);
      else this.value();
      if (isMember) {
        if (found !== undefined) throw GIVE_UP; // a duplicate member: JSON.parse keeps the last; stay out of it
        found = { start, end: this.o };
      }
      this.ws();
      const c = this.b[this.pos++];
      this.o++;
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) throw GIVE_UP;
    }
    // bounds-checked here, where the text ends: skipWhitespace never reads past the end of a well-formed text
    while (this.pos < this.b.length && isWhitespace(this.b[this.pos]!)) this.pos++;
    if (this.pos !== this.b.length) throw GIVE_UP;
    return found;
  }

  private value(): void {
    const c = this.b[this.pos];
    if (c === OPEN_OBJECT) return this.object(false);
    if (c === OPEN_ARRAY) return this.array();
    if (c === QUOTE) {
      const [s, e] = this.string();
      this.o += e - s;
      return;
    }
    if (c === MINUS || (c !== undefined && c >= 0x30 && c <= 0x39)) return this.number();
    for (const word of LITERALS) {
      if (this.matches(word)) {
        this.o += word.length;
        this.pos += word.length;
        return;
      }
    }
    throw GIVE_UP;
  }

  /** An object; in `signed` of a link (`ofLink`), its artifact lists are located as well. */
  private object(ofLink: boolean): void {
    this.enter();
    this.pos++;
    this.o++;
    this.ws();
    if (this.b[this.pos] === CLOSE_OBJECT) {
      this.pos++;
      this.o++;
      this.depth--;
      return;
    }
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      this.ws();
      const [ks, ke] = this.string();
      if (this.escaped) throw GIVE_UP; // escaped keys sort by their decoded form
      if (prevStart >= 0 && compareBytes(this.b, prevStart + 1, prevEnd - 1, ks + 1, ke - 1) >= 0) throw GIVE_UP;
      prevStart = ks;
      prevEnd = ke;
      this.o += ke - ks;
      this.ws();
      this.expect(COLON);
      this.o++;
      this.ws();
      if (ofLink) this.linkMember(ks + 1, ke - 1);
      else this.value();
      this.ws();
      const c = this.b[this.pos++];
      this.o++;
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) throw GIVE_UP;
    }
    this.depth--;
  }

  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) throw tooDeep(this.file);
  }

  /** A member of a link's `signed`: `materials` and `products` are tried as plain artifact lists first. */
  private linkMember(ks: number, ke: number): void {
    const list = this.isKey(MATERIALS, ks, ke) ? 'materials' : this.isKey(PRODUCTS, ks, ke) ? 'products' : undefined;
    if (list === undefined || this.b[this.pos] !== OPEN_OBJECT) return this.value();
    const pos = this.pos;
    const start = this.o;
    try {
      const entries = scanArtifactList(this.b, this.pos, this.o);
      this.pos = listEndPos;
      this.o = listEndOutput;
      this.lists.set(list, { start, end: this.o, count: listEndEntries / 4, entries: entries.subarray(0, listEndEntries) });
    } catch (e) {
      if (e !== NOT_PLAIN) throw e;
      this.pos = pos;
      this.o = start;
      this.object(false);
    }
  }

  private isKey(name: Uint8Array, ks: number, ke: number): boolean {
    return ke - ks === name.length && this.b.compare(name, 0, name.length, ks, ke) === 0;
  }

  private array(): void {
    this.enter();
    this.pos++;
    this.o++;
    this.ws();
    if (this.b[this.pos] === CLOSE_ARRAY) {
      this.pos++;
      this.o++;
      this.depth--;
      return;
    }
    for (;;) {
      this.ws();
      this.value();
      this.ws();
      const c = this.b[this.pos++];
      this.o++;
      if (c === CLOSE_ARRAY) break;
      if (c !== COMMA) throw GIVE_UP;
    }
    this.depth--;
  }

  /** A string token [start, end) including its quotes; escapes other than \" and \\ give up. */
  private string(): [number, number] {
    const b = this.b;
    if (b[this.pos] !== QUOTE) throw GIVE_UP;
    const start = this.pos;
    let i = start + 1;
    this.escaped = false;
    for (;;) {
      const c = b[i];
      if (c === undefined || c < 0x20) throw GIVE_UP;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const next = b[i + 1];
        if (next !== QUOTE && next !== BACKSLASH) throw GIVE_UP;
        this.escaped = true;
        i += 2;
        continue;
      }
      i++;
    }
    this.pos = i + 1;
    return [start, i + 1];
  }

  private number(): void {
    const start = this.pos;
    let i = start;
    while (i < this.b.length && NUMBER_CHAR[this.b[i]!] === 1) i++;
    const token = this.b.toString('latin1', start, i);
    if (/[.eE]/.test(token)) {
      throw new EvidentError('BAD_INPUT', `number ${token} is not an integer (canonical JSON allows integers only)`, { file: this.file });
    }
    if (!/^-?(?:0|[1-9]\d*)$/.test(token) || token === '-0') throw GIVE_UP;
    if (token.length > 15 && !Number.isSafeInteger(Number(token))) {
      throw new EvidentError('BAD_INPUT', `integer ${token} is too large to represent exactly`, { file: this.file });
    }
    this.o += i - start;
    this.pos = i;
  }

  private ws(): void {
    this.pos = skipWhitespace(this.b, this.pos);
  }

  private expect(c: number): void {
    if (this.b[this.pos] !== c) throw GIVE_UP;
    this.pos++;
  }

  private matches(word: Uint8Array): boolean {
    for (let k = 0; k < word.length; k++) if (this.b[this.pos + k] !== word[k]) return false;
    return true;
  }
}

/**
 * An artifact list `{"path": {"alg": "hex", …}, …}` at `pos` (`o` in the output) in one tight loop
 * (this is where a large link spends its bytes), recording where each path and digest object will lie;
 * where it ended is left in `listEndPos`, `listEndOutput` and `listEndEntries`. Anything else throws
 * NOT_PLAIN (the caller scans it again the general way) or GIVE_UP, as the general scan would.
 */
function scanArtifactList(b: Buffer, pos: number, o: number): Int32Array {
  pos = skipWhitespace(b, pos + 1);
  o++;
  const empty = b[pos] === CLOSE_OBJECT;
  // room for entries of ~48 bytes each in what is left of the text; untouched pages of a large array cost nothing
  let entries = new Int32Array(empty ? 0 : 4 * Math.ceil((b.length - pos) / 48) + 16);
  let n = 0;
  let prevStart = -1;
  let prevEnd = -1;
  if (empty) {
    pos++;
    o++;
  } else {
    for (;;) {
      // the path
      pos = skipWhitespace(b, pos);
      if (b[pos] !== QUOTE) throw GIVE_UP;
      const keyStart = ++pos;
      pos = plainStringEnd(b, pos);
      const keyEnd = pos++;
      if (prevStart >= 0 && compareBytes(b, prevStart, prevEnd, keyStart, keyEnd) >= 0) throw GIVE_UP;
      prevStart = keyStart;
      prevEnd = keyEnd;
      const outKeyStart = o + 1;
      o += keyEnd - keyStart + 3; // "path":
      pos = skipWhitespace(b, pos);
      if (b[pos++] !== COLON) throw GIVE_UP;
      pos = skipWhitespace(b, pos);
      // its digests: {"alg": "hex", …}, algorithms ascending
      if (b[pos++] !== OPEN_OBJECT) throw NOT_PLAIN;
      const valueStart = o++;
      pos = skipWhitespace(b, pos);
      if (b[pos] === CLOSE_OBJECT) {
        pos++;
        o++;
      } else {
        let algStart = -1;
        let algEnd = -1;
        for (;;) {
          pos = skipWhitespace(b, pos);
          if (b[pos] !== QUOTE) throw GIVE_UP;
          const s = ++pos;
          pos = plainStringEnd(b, pos);
          if (algStart >= 0 && compareBytes(b, algStart, algEnd, s, pos) >= 0) throw GIVE_UP;
          algStart = s;
          algEnd = pos;
          o += pos - s + 3; // "alg":
          pos = skipWhitespace(b, pos + 1);
          if (b[pos++] !== COLON) throw GIVE_UP;
          pos = skipWhitespace(b, pos);
          if (b[pos++] !== QUOTE) throw NOT_PLAIN;
          const hexStart = pos;
          while (HEX_DIGIT[b[pos]!] === 1) pos++;
          if (b[pos] !== QUOTE || pos === hexStart) throw NOT_PLAIN;
          o += pos - hexStart + 2; // "hex"
          pos = skipWhitespace(b, pos + 1);
          const c = b[pos++];
          o++; // , or }
          if (c === CLOSE_OBJECT) break;
          if (c !== COMMA) throw GIVE_UP;
        }
      }
      if (n + 4 > entries.length) {
        const grown = new Int32Array(entries.length * 2);
        grown.set(entries);
        entries = grown;
      }
      entries[n++] = outKeyStart;
      entries[n++] = outKeyStart + (keyEnd - keyStart);
      entries[n++] = valueStart;
      entries[n++] = o;
      pos = skipWhitespace(b, pos);
      const c = b[pos++];
      o++; // , or }
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) throw GIVE_UP;
    }
  }
  listEndPos = pos;
  listEndOutput = o;
  listEndEntries = n;
  return entries;
}

/**
 * Where the string whose content starts at `pos` ends (its closing quote). An escape sends the list the
 * general way (NOT_PLAIN: it gives up there on an escaped key); a raw control character is not JSON.
 */
function plainStringEnd(b: Buffer, pos: number): number {
  for (; ; pos++) {
    const c = b[pos];
    if (c === QUOTE) return pos;
    if (c === undefined || c < 0x20) throw GIVE_UP;
    if (c === BACKSLASH) throw NOT_PLAIN;
  }
}

/**
 * Where the last scanArtifactList ended (input, output) and how many offsets it recorded. Plain variables,
 * not properties: the exit of a loop of 10^5 iterations has no type feedback when the optimizer compiles
 * the loop, and a property store there would throw the optimized code away the first time a list ends.
 */
let listEndPos = 0;
let listEndOutput = 0;
let listEndEntries = 0;

/**
 * The writing pass, over a text the Scanner accepted: every byte outside strings that is not whitespace
 * is kept, strings are kept whole (an escaped quote does not end one). Writes trail reads, so in place is
 * safe. Returns the new length.
 */
function compactInPlace(b: Buffer): number {
  const n = b.length;
  let o = 0;
  let i = 0;
  while (i < n) {
    const c = b[i++]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    b[o++] = c;
    if (c !== QUOTE) continue;
    for (;;) {
      const d = b[i++]!;
      b[o++] = d;
      if (d === QUOTE) break;
      if (d === BACKSLASH) b[o++] = b[i++]!;
    }
  }
  return o;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWhitespace(b: Buffer, pos: number): number {
  for (;;) {
    const c = b[pos];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
    else return pos;
  }
}

/** Byte order of two ranges of `b` (UTF-8 byte order is code point order). */
function compareBytes(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let k = 0; k < n; k++) {
    const d = b[as + k]! - b[bs + k]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

const LITERALS = ['true', 'false', 'null'].map((w) => Buffer.from(w));
const HEX_DIGIT = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;
const NUMBER_CHAR = new Uint8Array(256);
for (const c of '0123456789+-.eE') NUMBER_CHAR[c.charCodeAt(0)] = 1;
