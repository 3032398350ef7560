import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { HashDict } from './types.js';

/** Reference algorithm name (securesystemslib's HASHALGORITHMS_SCHEMA) → OpenSSL name. */
const ALGORITHMS: Readonly<Record<string, string>> = {
  md5: 'md5',
  sha1: 'sha1',
  sha224: 'sha224',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  blake2s: 'blake2s256',
  blake2b: 'blake2b512',
};

/** The reference names Node can hash; `blake2b-256` (a keyed-length BLAKE2b) has no OpenSSL digest here. */
export function isSupportedAlgorithm(name: string): boolean {
  return Object.hasOwn(ALGORITHMS, name);
}

/** The OpenSSL digest name for a reference algorithm name. */
export function nodeHashName(name: string): string {
  const node = ALGORITHMS[name];
  if (node === undefined) throw new Error(`unsupported hash algorithm '${name}'`);
  return node;
}

/** Bytes read per read(2): big enough that syscalls are noise, small enough that memory stays flat. */
export const CHUNK_SIZE = 1 << 20;

/** What hashing one file gave: digests, a reason to skip it, or an error to report. */
export type FileHashResult =
  | { ok: HashDict }
  | { skip: string }
  | { error: string; code: string }
  /** Bigger than the caller's deferAbove: left for the caller to hash on its own (see hash-dispatch.ts). */
  | { defer: true };

/**
 * The reference's normalize_line_endings as a stream transform: CRLF → LF, then lone CR → LF. Streamed,
 * that is "every CR becomes LF, and an LF right after a CR is dropped", remembering a CR that ended the
 * previous chunk.
 */
export class LineEndingNormalizer {
  private afterCr = false;

  transform(chunk: Uint8Array): Uint8Array {
    if (!this.afterCr && chunk.indexOf(13) < 0) return chunk;
    const out = new Uint8Array(chunk.length);
    let n = 0;
    for (const byte of chunk) {
      if (byte === 10 && this.afterCr) {
        this.afterCr = false;
        continue;
      }
      this.afterCr = byte === 13;
      out[n++] = byte === 13 ? 10 : byte;
    }
    return out.subarray(0, n);
  }
}

// O_NONBLOCK: if a FIFO took a file's place after the walk, open must not wait for a writer.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Hashes one file with blocking reads into `buffer` (reused across files), so memory does not grow with
 * the file's size. Runs in a hashing thread, where blocking is what we want: no event loop to starve.
 */
export function hashFileSync(
  path: string,
  algorithms: readonly string[],
  normalizeLineEndings: boolean,
  buffer: Buffer,
  deferAbove = 0,
): FileHashResult {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    return failure(e);
  }
  try {
    const hashes: Hash[] = algorithms.map((a) => createHash(nodeHashName(a)));
    const normalizer = normalizeLineEndings ? new LineEndingNormalizer() : undefined;
    let first = true;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      // The walk saw a regular file; fstat only where something else could hide: an empty read (a FIFO
      // without writer) or a full one (a device would never end). Saves a syscall on most small files.
      if (first && (n === 0 || n === buffer.length)) {
        const st = fstatSync(fd);
        if (!st.isFile()) return { skip: 'not a regular file' };
        if (deferAbove > 0 && st.size > deferAbove) return { defer: true };
      }
      first = false;
      if (n === 0) break;
      let data: Uint8Array = buffer.subarray(0, n);
      if (normalizer) data = normalizer.transform(data);
      for (const h of hashes) h.update(data);
    }
    const ok: HashDict = {};
    algorithms.forEach((a, i) => (ok[a] = hashes[i]!.digest('hex')));
    return { ok };
  } catch (e) {
    // EAGAIN: a FIFO or socket with O_NONBLOCK, which took the file's place after the walk.
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return { skip: 'not a regular file' };
    return failure(e);
  } finally {
    closeSync(fd);
  }
}

function failure(e: unknown): FileHashResult {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err.code === 'string' ? err.code : 'EIO';
  // Gone between the walk and the read: the reference would not have seen it either.
  if (code === 'ENOENT') return { skip: 'disappeared while recording' };
  // A socket that took a file's place: open(2) refuses it, and it has no content to record.
  if (code === 'ENXIO') return { skip: 'not a regular file' };
  if (code === 'ELOOP') return { error: 'symlink loop', code };
  return { error: err.message ?? String(e), code };
}
