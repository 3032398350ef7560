/**
 * The TPM's wire format (TPM 2.0 Part 1 §18, Part 2 §5): big-endian integers, and TPM2B_ structures,
 * a 16-bit size followed by that many bytes. `TpmWriter` builds a buffer; `TpmReader` reads one and
 * refuses to read past its end with a message naming the structure (`TPM2B_PUBLIC: needs 310 bytes at
 * offset 14, 20 left`), so a truncated or hostile response never becomes garbage or an exception with
 * a stack trace. The structures themselves are in structures.ts.
 */
import { EvidentError } from '../errors.js';

export class TpmWriter {
  private chunks: Buffer[] = [];
  private length = 0;

  u8(v: number): this {
    return this.push(Buffer.of(v & 0xff));
  }

  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.push(b);
  }

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }

  /** A signed 32-bit integer (TPM2_PolicySecret's expiration). */
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return this.push(b);
  }

  bytes(b: Uint8Array): this {
    return this.push(Buffer.from(b));
  }

  /** A TPM2B: 16-bit size, then the bytes. */
  tpm2b(b: Uint8Array, what = 'TPM2B'): this {
    if (b.length > 0xffff) throw new EvidentError('BAD_INPUT', `${what}: ${b.length} bytes do not fit a 16-bit size`);
    return this.u16(b.length).bytes(b);
  }

  /** A TPM2B whose contents is a structure (TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE): written by `inner`, then sized. */
  sized(inner: (w: TpmWriter) => void, what = 'TPM2B'): this {
    const w = new TpmWriter();
    inner(w);
    return this.tpm2b(w.toBuffer(), what);
  }

  get size(): number {
    return this.length;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }

  private push(b: Buffer): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }
}

export class TpmReader {
  private offset = 0;

  /** `what` names the buffer in messages: `TPM2_ReadPublic response`. */
  constructor(
    private readonly buf: Buffer,
    readonly what = 'TPM data',
  ) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  u8(field = 'UINT8'): number {
    return this.take(1, field).readUInt8();
  }

  u16(field = 'UINT16'): number {
    return this.take(2, field).readUInt16BE();
  }

  u32(field = 'UINT32'): number {
    return this.take(4, field).readUInt32BE();
  }

  bytes(n: number, field = 'bytes'): Buffer {
    return this.take(n, field);
  }

  /** A TPM2B's contents, optionally bounded: a size over `max` is refused before reading it. */
  tpm2b(field = 'TPM2B', max = 0xffff): Buffer {
    const size = this.u16(`${field} size`);
    if (size > max) throw this.error(`${field}: size ${size} is over its maximum of ${max}`);
    return this.take(size, field);
  }

  /** A TPM2B holding a structure: `inner` reads it from its own reader, which must use every byte. */
  sized<T>(field: string, inner: (r: TpmReader) => T): T {
    const body = this.tpm2b(field);
    const r = new TpmReader(body, `${this.what}: ${field}`);
    const value = inner(r);
    r.end();
    return value;
  }

  /** Refuses trailing bytes: what was read must be all there is. */
  end(): void {
    if (this.remaining !== 0) throw this.error(`${this.remaining} unexpected bytes after the end at offset ${this.offset}`);
  }

  error(message: string): EvidentError {
    return new EvidentError('BAD_INPUT', `${this.what}: ${message}`);
  }

  private take(n: number, field: string): Buffer {
    if (n > this.remaining) throw this.error(`truncated: ${field} needs ${n} bytes at offset ${this.offset}, ${this.remaining} left`);
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
}
