import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { WorkloadAttestationError } from './errors.js';
import { sameExecutable, type ExecutableId } from './types.js';

/**
 * SHA-256 of executables, streamed, remembered by file identity (device, inode, size, mtime, ctime) so
 * a 100 MB interpreter is hashed once, not on every call. Any write to the file changes its ctime,
 * which no user can set back, so a changed binary is always hashed anew.
 */
export class ExeHasher {
  private readonly cache = new Map<string, string>();
  /** Hashes under way: callers of one binary at once share one read of it. */
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly maxEntries = 256) {}

  /**
   * Opens `path` (e.g. `/proc/PID/exe`, which opens the very file the process runs) and hashes it.
   * With `expect`, the file opened must be that one (a process's exe can change under us by an exec).
   */
  async sha256(path: string, expect?: ExecutableId): Promise<string> {
    // The common case, a binary hashed before, costs an open and an fstat: done synchronously.
    const fd = openSync(path, 'r');
    let key: string;
    try {
      const s = fstatSync(fd, { bigint: true });
      checkIdentity(path, s, expect);
      key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } finally {
      closeSync(fd);
    }
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const work = this.hashFile(path, expect).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  private async hashFile(path: string, expect: ExecutableId | undefined): Promise<string> {
    const handle = await open(path, 'r');
    try {
      const s = await handle.stat({ bigint: true });
      checkIdentity(path, s, expect); // opened again: the file may differ from the one keyed
      const key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`; // the file hashed is the one keyed
      const hash = createHash('sha256');
      for await (const chunk of handle.createReadStream({ autoClose: false, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
      const hex = hash.digest('hex');
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, hex);
      return hex;
    } finally {
      await handle.close();
    }
  }
}

function checkIdentity(path: string, s: { dev: bigint; ino: bigint }, expect: ExecutableId | undefined): void {
  if (expect && !sameExecutable(s, expect)) {
    throw new WorkloadAttestationError(
      'PROCESS_CHANGED',
      `${path} is no longer the executable the process connected with (an exec); refusing`,
    );
  }
}
