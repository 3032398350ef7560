import { canonicalizeInPlace, compareBytes, NOT_CANONICAL, skipWhitespace } from '../../crypto/canonical-from-text.js';

/**
 * The artifact lists of a link file, located while the file is made canonical in place
 * (crypto/canonical-from-text.ts): their 10^5 paths and digests are read once, and nothing but offsets is
 * allocated for them. PackedArtifacts (rules/packed-artifacts.ts) reads the lists through these offsets.
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

/** A metadata document (a metablock) made canonical in place. */
export interface CanonicalMetadata {
  /** The whole document, canonical: a view of the start of the buffer it was made from. */
  readonly bytes: Buffer;
  /** Where `signed` lies in `bytes`: the bytes its signatures are over. */
  readonly signedStart: number;
  readonly signedEnd: number;
  /** The well-formed artifact lists of `signed`. */
  readonly lists: { readonly materials?: ArtifactListSpan; readonly products?: ArtifactListSpan };
}

/**
 * Makes a metadata document canonical in place (canonicalizeInPlace), locating its `signed` member and,
 * when that is a link, every artifact of its `materials` and `products` lists. Returns undefined, with
 * `bytes` unchanged, when the text is not canonical as written, has no `signed` object member, or is a
 * DSSE envelope (read as one whatever else it holds: no use scanning its payload for `signed`).
 */
export function canonicalizeMetadataInPlace(bytes: Buffer, file?: string): CanonicalMetadata | undefined {
  const lists: { materials?: ArtifactListSpan; products?: ArtifactListSpan } = {};
  const scanMemberValue = (b: Buffer, ks: number, ke: number, pos: number, out: number) => {
    const list = isKey(b, MATERIALS, ks, ke) ? 'materials' : isKey(b, PRODUCTS, ks, ke) ? 'products' : undefined;
    if (list === undefined || b[pos] !== OPEN_OBJECT) return undefined;
    let entries: Int32Array;
    try {
      entries = scanArtifactList(b, pos, out);
    } catch (e) {
      if (e === NOT_PLAIN) return undefined; // the general scan reads it again
      throw e;
    }
    lists[list] = { start: out, end: listEndOutput, count: listEndEntries / 4, entries: entries.subarray(0, listEndEntries) };
    return { pos: listEndPos, out: listEndOutput };
  };
  const doc = canonicalizeInPlace(bytes, { member: 'signed', giveUpOn: ['payloadType'], scanMemberValue }, file);
  if (doc === undefined) return undefined;
  return { bytes: doc.bytes, signedStart: doc.memberStart, signedEnd: doc.memberEnd, lists };
}

/** A list that is canonical but not plain hex digests: the general scan reads it again. */
const NOT_PLAIN = Symbol('not a plain artifact list');
/** Where the text is not canonical as written: the whole document goes the general way. */
const GIVE_UP = NOT_CANONICAL;
const MATERIALS = Buffer.from('materials');
const PRODUCTS = Buffer.from('products');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const HEX_DIGIT = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;

function isKey(b: Buffer, name: Uint8Array, ks: number, ke: number): boolean {
  return ke - ks === name.length && b.compare(name, 0, name.length, ks, ke) === 0;
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
