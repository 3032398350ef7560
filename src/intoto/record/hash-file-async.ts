import { createHash } from 'node:crypto';
import { close, constants, fstat, open, read } from 'node:fs';
import { promisify } from 'node:util';
import { LineEndingNormalizer, nodeHashName } from './hash-file.js';
import type { FileHashResult } from './hash-file.js';

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const openAsync = promisify(open);
const closeAsync = promisify(close);
const fstatAsync = promisify(fstat);
// Callback fs, not FileHandle: FileHandle's per-call cost made this variant several times slower.
const readAsync = (fd: number, buffer: Buffer): Promise<number> =>
  new Promise((resolve, reject) => read(fd, buffer, 0, buffer.length, null, (e, n) => (e ? reject(e) : resolve(n))));

/**
 * The single-thread alternative measured by bench/record.ts: reads on the libuv threadpool, digests on
 * the main thread. Same results as hashFileSync.
 */
export async function hashFileAsync(
  path: string,
  algorithms: readonly string[],
  normalizeLineEndings: boolean,
  buffer: Buffer,
): Promise<FileHashResult> {
  let fd: number;
  try {
    fd = await openAsync(path, OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'ENOENT') return { skip: 'disappeared while recording' };
    if (code === 'ENXIO') return { skip: 'not a regular file' };
    return { error: (e as Error).message, code };
  }
  try {
    const hashes = algorithms.map((a) => createHash(nodeHashName(a)));
    const normalizer = normalizeLineEndings ? new LineEndingNormalizer() : undefined;
    let first = true;
    for (;;) {
      const n = await readAsync(fd, buffer);
      if (first && (n === 0 || n === buffer.length) && !(await fstatAsync(fd)).isFile()) {
        return { skip: 'not a regular file' };
      }
      first = false;
      if (n === 0) break;
      let data: Uint8Array = buffer.subarray(0, n);
      if (normalizer) data = normalizer.transform(data);
      for (const h of hashes) h.update(data);
    }
    const ok: Record<string, string> = {};
    algorithms.forEach((a, i) => (ok[a] = hashes[i]!.digest('hex')));
    return { ok };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'EAGAIN') return { skip: 'not a regular file' };
    return { error: (e as Error).message, code };
  } finally {
    await closeAsync(fd);
  }
}
