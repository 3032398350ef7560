import { EvidentError } from '../errors.js';
import { MAX_JSON_DEPTH, tooDeep } from '../util/strict-json.js';

/**
 * Canonical JSON read straight off a file's text, for files already in canonical order — what the
 * reference and evident write (sorted keys). A first pass checks, without writing anything, everything
 * canonical JSON would change: object keys strictly ascending by code point (UTF-8 byte order is code
 * point order), strings with no escapes but `\"` and `\\`, integers only. Where any of that fails the
 * text is left as it was and the caller encodes the parsed value instead. Otherwise a second pass drops
 * the insignificant whitespace in place, and the member's bytes are then exactly
 * `canonicalJsonBytes(JSON.parse(text)[member])`, at a fraction of the cost on a large file.
 *
 * In place, because fresh memory is dear: a 35 MB file costs more in first-touched pages than in the
 * scan of it. Numbers that canonical JSON refuses (fractions, exponents, integers beyond 2^53) are
 * errors here, as in parseStrictJson; numbers after the point where it gives up are left to that function.
 * So is nesting deeper than MAX_JSON_DEPTH: the scan recurses per level.
 */

/** A document made canonical in place. */
export interface CanonicalDocument {
  /** The whole document, canonical: a view of the start of the buffer it was made from. */
  readonly bytes: Buffer;
  /** Where the value of the member that was looked for lies in `bytes`. */
  readonly memberStart: number;
  readonly memberEnd: number;
}

/** What canonicalizeInPlace looks for in a document, and how a caller reads parts it knows the shape of. */
export interface CanonicalReading {
  /** The top-level member to locate. */
  readonly member: string;
  /** Top-level members that make the document one the caller does not read this way: the scan gives up at once. */
  readonly giveUpOn?: readonly string[];
  /**
   * A faster scan for some members of the located member's object (when that is an object), for values whose
   * shape the caller knows (see MemberValueScanner).
   */
  readonly scanMemberValue?: MemberValueScanner;
}

/**
 * Scans the value of one member of the located object, in the input `b`: its key's text lies in
 * [keyStart, keyEnd) (inside the quotes), its value starts at `pos`, and will start at `out` in the canonical
 * output. Returns where the value ends in the input and in the output, or undefined to have the general scan
 * read it (from `pos`, as if never looked at). It must accept only what the general scan accepts and count
 * the output as it does (every byte but whitespace outside strings); where the general scan would give up,
 * it throws NOT_CANONICAL. It writes nothing.
 */
export type MemberValueScanner = (
  b: Buffer,
  keyStart: number,
  keyEnd: number,
  pos: number,
  out: number,
) => { readonly pos: number; readonly out: number } | undefined;

/** Thrown by a MemberValueScanner where the text is not canonical as written: canonicalizeInPlace gives up. */
export const NOT_CANONICAL: unique symbol = Symbol('not canonical as written');

/**
 * Makes a document canonical in place (see above), locating the value of its top-level member
 * `reading.member`. Returns undefined, with `bytes` unchanged, when the text is not canonical as written or
 * has no such member.
 */
export function canonicalizeInPlace(bytes: Buffer, reading: CanonicalReading, file?: string): CanonicalDocument | undefined {
  const scanner = new Scanner(bytes, file, reading);
  let found: { start: number; end: number } | undefined;
  try {
    found = scanner.document();
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
  if (found === undefined) return undefined;
  const length = compactInPlace(bytes);
  if (length !== scanner.length)
    throw new Error(`canonical-from-text: compaction gave ${length} bytes, the scan counted ${scanner.length}`);
  return { bytes: bytes.subarray(0, length), memberStart: found.start, memberEnd: found.end };
}

/** The canonical bytes of one top-level member, from a copy of `bytes`; undefined where canonicalizeInPlace gives up. */
export function canonicalMemberFromText(bytes: Uint8Array, member: string, file?: string): Buffer | undefined {
  const found = canonicalizeInPlace(Buffer.from(bytes), { member }, file);
  return found?.bytes.subarray(found.memberStart, found.memberEnd);
}

const GIVE_UP = NOT_CANONICAL;

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
  private readonly member: Buffer;
  private readonly giveUpOn: readonly Buffer[];
  private readonly scanMemberValue: MemberValueScanner | undefined;

  constructor(
    private readonly b: Buffer,
    private readonly file: string | undefined,
    reading: CanonicalReading,
  ) {
    this.member = Buffer.from(reading.member, 'utf8');
    this.giveUpOn = (reading.giveUpOn ?? []).map((name) => Buffer.from(name, 'utf8'));
    this.scanMemberValue = reading.scanMemberValue;
  }

  /** The length of the canonical document. */
  get length(): number {
    return this.o;
  }

  /** Walks the top-level object; returns where the member's value will lie (undefined if absent). */
  document(): { start: number; end: number } | undefined {
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
      // a document of another kind is read as one whatever else it holds: no use scanning it for the member
      for (const other of this.giveUpOn) if (this.isKey(other, ks + 1, ke - 1)) throw GIVE_UP;
      const isMember = this.isKey(this.member, ks + 1, ke - 1);
      if (isMember && this.scanMemberValue !== undefined && this.b[this.pos] === OPEN_OBJECT) this.object(true);
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

  /** An object; that of the located member (`located`) has its members' values offered to scanMemberValue. */
  private object(located: boolean): void {
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
      if (located) this.memberValue(ks + 1, ke - 1);
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

  /** The value of a member of the located object: scanMemberValue may read it, else the general scan does. */
  private memberValue(ks: number, ke: number): void {
    const scanned = this.scanMemberValue!(this.b, ks, ke, this.pos, this.o);
    if (scanned === undefined) return this.value();
    this.pos = scanned.pos;
    this.o = scanned.out;
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

/** Where the whitespace at `pos` ends (at the end of `b` at the latest). */
export function skipWhitespace(b: Buffer, pos: number): number {
  for (;;) {
    const c = b[pos];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
    else return pos;
  }
}

/** Byte order of two ranges of `b` (UTF-8 byte order is code point order). */
export function compareBytes(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let k = 0; k < n; k++) {
    const d = b[as + k]! - b[bs + k]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

const LITERALS = ['true', 'false', 'null'].map((w) => Buffer.from(w));
const NUMBER_CHAR = new Uint8Array(256);
for (const c of '0123456789+-.eE') NUMBER_CHAR[c.charCodeAt(0)] = 1;
