import { isUtf8 } from 'node:buffer';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readRegularFile } from '../../util/regular-file.js';

/** What reading one metadata file gave. */
export type ReadResult =
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreadable'; readonly reason: string }
  /** A FIFO, socket, device or folder named like a link: `problem` says which (`is not a regular file (a FIFO)`). */
  | { readonly kind: 'not-regular'; readonly problem: string }
  | { readonly kind: 'too-large'; readonly size: number }
  | { readonly kind: 'malformed'; readonly reason: string }
  /** The contents of a file, checked to be valid UTF-8 (decoded only as far as the parser needs). */
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  | { readonly kind: 'json'; readonly value: object };

/** Where link files come from: a folder, or the same layout of names held in memory. */
export interface LinkSource {
  /** `path` is relative (`build.0123abcd.link`, `pkg.0123abcd/unpack.4567ef01.link`). */
  read(path: string): Promise<ReadResult>;
  /** How to name `path` in messages. */
  describe(path: string): string;
  /** The names of the files directly in the relative folder `dir` ('' for the top), sorted; [] when there is none. */
  list(dir: string): Promise<string[]>;
  /**
   * A hint that these files will be read next: a folder starts reading them all at once, so the reading
   * of one overlaps the parsing of another. Each prefetched read is handed out once, to the next `read`.
   */
  prefetch?(paths: readonly string[]): void;
}

/**
 * Link files from a folder, each read as readRegularFile does: what it is and its size are checked on
 * the opened file before anything is read, and the read itself stops at the limit.
 */
export function folderSource(dir: string, maxBytes: number): LinkSource {
  const pending = new Map<string, Promise<ReadResult>>();
  const readFile = (path: string) => readLinkFile(join(dir, path), maxBytes);
  return {
    describe: (path) => join(dir, path),
    prefetch(paths) {
      for (const path of paths) {
        if (pending.has(path)) continue;
        const read = readFile(path);
        read.catch(() => {}); // a read nobody comes for must not fail the process; a consumer still sees its error
        pending.set(path, read);
      }
    },
    async list(sub) {
      try {
        const entries = await readdir(join(dir, sub), { withFileTypes: true });
        return entries
          .filter((e) => !e.isDirectory())
          .map((e) => e.name)
          .sort();
      } catch {
        // a missing or unreadable folder holds no links, as a glob over it finds none
        return [];
      }
    },
    read(path) {
      const prefetched = pending.get(path);
      pending.delete(path);
      return prefetched ?? readFile(path);
    },
  };
}

/** Reads one link file, refusing it when over `maxBytes` or not a regular file (a FIFO must not be waited on). */
async function readLinkFile(file: string, maxBytes: number): Promise<ReadResult> {
  let read;
  try {
    read = await readRegularFile(file, maxBytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // The reference skips a link it cannot open (IOError) exactly like a missing one.
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unreadable', reason: String(code ?? e) };
  }
  switch (read.kind) {
    case 'not-regular':
      return { kind: 'not-regular', problem: read.problem };
    case 'too-large':
      return read;
    case 'bytes':
      return decode(read.bytes);
  }
}

/** Link files held in memory, by relative path; texts and bytes obey the same size limit as files. */
export function memorySource(files: Readonly<Record<string, string | Uint8Array | object>>, maxBytes: number): LinkSource {
  return {
    describe: (path) => path,
    async list(sub) {
      const prefix = sub === '' ? '' : `${sub}/`;
      return Object.keys(files)
        .filter((path) => path.startsWith(prefix) && !path.slice(prefix.length).includes('/'))
        .map((path) => path.slice(prefix.length))
        .sort();
    },
    async read(path) {
      if (!Object.hasOwn(files, path)) return { kind: 'missing' };
      const value = files[path]!;
      if (typeof value === 'string' || value instanceof Uint8Array) {
        // bytes of our own (a text's UTF-8, or a copy): parsing rewrites them in place, and these are the caller's
        const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
        return bytes.length > maxBytes ? { kind: 'too-large', size: bytes.length } : decode(bytes);
      }
      return { kind: 'json', value };
    },
  };
}

// Bad UTF-8 is refused rather than replaced, so the signed bytes cannot be reinterpreted.
function decode(bytes: Uint8Array): ReadResult {
  if (!isUtf8(bytes)) return { kind: 'malformed', reason: 'is not valid UTF-8' };
  return { kind: 'bytes', bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** The path of `name` inside the sublayout folder `dir` ('' for the root). */
export function within(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
