import { EvidentError } from '../errors.js';

/**
 * The canonical JSON bytes of one top-level member (`signed`) read straight off the file's text, for
 * files that are already in canonical order — what the reference and evident write (sorted keys). It
 * drops insignificant whitespace and checks, in one pass over the bytes, everything canonical JSON
 * would change: object keys strictly ascending by code point (UTF-8 byte order is code point order),
 * strings with no escapes but `\"` and `\\`, integers only. Where any of that fails it returns
 * `undefined` and the caller encodes the parsed value instead; so, whenever it answers, the answer
 * equals `canonicalJsonBytes(JSON.parse(text)[member])`, at a fraction of the cost on a large link.
 *
 * Numbers that canonical JSON refuses (fractions, exponents, integers beyond 2^53) are errors here, as in
 * parseStrictJson; numbers after the point where it gives up are left to that function.
 */
export function canonicalMemberFromText(bytes: Uint8Array, member: string, file?: string): Buffer | undefined {
  const scanner = new Scanner(bytes, file);
  try {
    return scanner.member(Buffer.from(member, 'utf8'));
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
}

/** The canonical bytes of `signed`, and which of its artifact lists the scan found well-formed. */
export interface CanonicalSigned {
  readonly bytes: Buffer;
  /**
   * `signed.materials` / `signed.products` is an object of objects of non-empty hex strings (no escapes):
   * exactly what a link's artifact validation accepts, so a parse of the same text needs no second look.
   */
  readonly digestsChecked: { readonly materials: boolean; readonly products: boolean };
}

/**
 * As canonicalMemberFromText for the `signed` member, also telling which artifact lists hold nothing
 * but hex digests. The check rides on the same pass: a large link's 10^5 digests are scanned once.
 */
export function canonicalSignedFromText(bytes: Uint8Array, file?: string): CanonicalSigned | undefined {
  const scanner = new Scanner(bytes, file);
  try {
    const out = scanner.member(SIGNED, true);
    return out === undefined ? undefined : { bytes: out, digestsChecked: { materials: scanner.checked.has('materials'), products: scanner.checked.has('products') } };
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
}

const GIVE_UP = Symbol('not canonical as written');
const SIGNED = Buffer.from('signed');
const MATERIALS = Buffer.from('materials');
const PRODUCTS = Buffer.from('products');

/** What an object being scanned is, for the digest check: anything, a link, artifacts, or digests. */
const Shape = { Any: 0, Signed: 1, Artifacts: 2, Digests: 3 } as const;
type Shape = (typeof Shape)[keyof typeof Shape];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;

class Scanner {
  private pos = 0;
  private out: Buffer;
  private o = 0;

  private readonly b: Buffer;
  /** Whether the last string scanned held an escape. */
  private escaped = false;
  /** Cleared when an artifact list being scanned holds anything but objects of hex digests. */
  private digestsOk = true;
  /** The artifact lists of `signed` found well-formed. */
  readonly checked = new Set<'materials' | 'products'>();

  constructor(
    bytes: Uint8Array,
    private readonly file: string | undefined,
  ) {
    this.b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.out = Buffer.allocUnsafe(bytes.length);
  }

  /** Walks the top-level object; emits only the member's value. */
  member(name: Uint8Array, link = false): Buffer | undefined {
    this.ws();
    this.expect(OPEN_OBJECT);
    let found: Buffer | undefined;
    this.ws();
    if (this.b[this.pos] === CLOSE_OBJECT) return undefined;
    for (;;) {
      this.ws();
      const [ks, ke] = this.string();
      this.ws();
      this.expect(COLON);
      this.ws();
      const start = this.o;
      const isMember = ke - ks - 2 === name.length && this.b.compare(name, 0, name.length, ks + 1, ke - 1) === 0;
      if (isMember && link && this.b[this.pos] === OPEN_OBJECT) this.object(Shape.Signed);
      else this.value();
      if (isMember) {
        if (found !== undefined) throw GIVE_UP; // a duplicate member: JSON.parse keeps the last; stay out of it
        // a view, not a copy (fresh pages cost more than the scan of them): later members are written
        // after it, and the output never outgrows the input
        found = this.out.subarray(start, this.o);
      } else {
        this.o = start; // only the member's bytes are kept
      }
      this.ws();
      const c = this.b[this.pos++];
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) throw GIVE_UP;
    }
    this.ws();
    if (this.pos !== this.b.length) throw GIVE_UP;
    return found;
  }

  private value(): void {
    const c = this.b[this.pos];
    if (c === OPEN_OBJECT) return this.object(Shape.Any);
    if (c === OPEN_ARRAY) return this.array();
    if (c === QUOTE) {
      const [s, e] = this.string();
      this.copy(s, e);
      return;
    }
    if (c === MINUS || (c !== undefined && c >= 0x30 && c <= 0x39)) return this.number();
    for (const word of LITERALS) {
      if (this.matches(word)) {
        this.copy(this.pos, this.pos + word.length);
        this.pos += word.length;
        return;
      }
    }
    throw GIVE_UP;
  }

  private object(shape: Shape): void {
    this.pos++;
    this.emit(OPEN_OBJECT);
    this.ws();
    if (this.b[this.pos] === CLOSE_OBJECT) {
      this.pos++;
      this.emit(CLOSE_OBJECT);
      return;
    }
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      this.ws();
      const [ks, ke] = this.string();
      if (this.escaped) throw GIVE_UP; // escaped keys sort by their decoded form
      if (prevStart >= 0 && this.compareRanges(prevStart + 1, prevEnd - 1, ks + 1, ke - 1) >= 0) throw GIVE_UP;
      prevStart = ks;
      prevEnd = ke;
      this.copy(ks, ke);
      this.ws();
      this.expect(COLON);
      this.emit(COLON);
      this.ws();
      if (shape === Shape.Any) this.value();
      else this.shaped(shape, ks + 1, ke - 1);
      this.ws();
      const c = this.b[this.pos++];
      if (c === CLOSE_OBJECT) break;
      if (c !== COMMA) throw GIVE_UP;
      this.emit(COMMA);
    }
    this.emit(CLOSE_OBJECT);
  }

  /** A member value inside `signed`, checked against what a link's artifact lists must hold. */
  private shaped(shape: Shape, ks: number, ke: number): void {
    const c = this.b[this.pos];
    if (shape === Shape.Signed) {
      const list = this.isKey(MATERIALS, ks, ke) ? 'materials' : this.isKey(PRODUCTS, ks, ke) ? 'products' : undefined;
      if (list === undefined || c !== OPEN_OBJECT) return this.value();
      this.digestsOk = true;
      this.object(Shape.Artifacts);
      if (this.digestsOk) this.checked.add(list);
      return;
    }
    if (shape === Shape.Artifacts) {
      if (c === OPEN_OBJECT) return this.object(Shape.Digests);
      this.digestsOk = false;
      return this.value();
    }
    // Shape.Digests: a non-empty run of hex digits in quotes (so no escape), else the general way
    const b = this.b;
    const start = this.pos;
    let i = start + 1;
    while (HEX_DIGIT[b[i]!] === 1) i++;
    if (c === QUOTE && b[i] === QUOTE && i > start + 1) {
      this.pos = i + 1;
      this.copy(start, i + 1);
      return;
    }
    this.digestsOk = false;
    this.value();
  }

  private isKey(name: Uint8Array, ks: number, ke: number): boolean {
    return ke - ks === name.length && this.b.compare(name, 0, name.length, ks, ke) === 0;
  }

  private array(): void {
    this.pos++;
    this.emit(OPEN_ARRAY);
    this.ws();
    if (this.b[this.pos] === CLOSE_ARRAY) {
      this.pos++;
      this.emit(CLOSE_ARRAY);
      return;
    }
    for (;;) {
      this.ws();
      this.value();
      this.ws();
      const c = this.b[this.pos++];
      if (c === CLOSE_ARRAY) break;
      if (c !== COMMA) throw GIVE_UP;
      this.emit(COMMA);
    }
    this.emit(CLOSE_ARRAY);
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
    const token = Buffer.from(this.b.subarray(start, i)).toString('latin1');
    if (/[.eE]/.test(token)) {
      throw new EvidentError('BAD_INPUT', `number ${token} is not an integer (canonical JSON allows integers only)`, { file: this.file });
    }
    if (!/^-?(?:0|[1-9]\d*)$/.test(token) || token === '-0') throw GIVE_UP;
    if (token.length > 15 && !Number.isSafeInteger(Number(token))) {
      throw new EvidentError('BAD_INPUT', `integer ${token} is too large to represent exactly`, { file: this.file });
    }
    this.copy(start, i);
    this.pos = i;
  }

  private ws(): void {
    const b = this.b;
    let p = this.pos;
    for (;;) {
      const c = b[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  private expect(c: number): void {
    if (this.b[this.pos] !== c) throw GIVE_UP;
    this.pos++;
  }

  private matches(word: Uint8Array): boolean {
    for (let k = 0; k < word.length; k++) if (this.b[this.pos + k] !== word[k]) return false;
    return true;
  }

  private emit(c: number): void {
    this.out[this.o++] = c;
  }

  private copy(start: number, end: number): void {
    if (end - start < 256) {
      // short runs (keys, digests) copy faster by hand than through a Buffer view
      const out = this.out;
      const b = this.b;
      let o = this.o;
      for (let i = start; i < end; i++) out[o++] = b[i]!;
      this.o = o;
    } else {
      this.o += this.b.copy(this.out, this.o, start, end);
    }
  }

  /** Byte order of two ranges of the input (UTF-8 byte order is code point order). */
  private compareRanges(as: number, ae: number, bs: number, be: number): number {
    const b = this.b;
    const n = Math.min(ae - as, be - bs);
    for (let k = 0; k < n; k++) {
      const d = b[as + k]! - b[bs + k]!;
      if (d !== 0) return d;
    }
    return ae - as - (be - bs);
  }
}

const LITERALS = ['true', 'false', 'null'].map((w) => Buffer.from(w));
const HEX_DIGIT = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;
const NUMBER_CHAR = new Uint8Array(256);
for (const c of '0123456789+-.eE') NUMBER_CHAR[c.charCodeAt(0)] = 1;
