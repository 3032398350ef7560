import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { EvidentError } from '../errors.js';

/** What reading a file that must be a regular one gave. */
export type RegularFileRead =
  | { readonly kind: 'bytes'; readonly bytes: Buffer }
  /** A FIFO, socket, device or folder; `problem` says which, ready to follow the file's name. */
  | { readonly kind: 'not-regular'; readonly problem: string }
  /** Over the limit: its size, or (when it grew while being read) the bytes read before stopping. */
  | { readonly kind: 'too-large'; readonly size: number };

// O_NONBLOCK: open(2) of a FIFO waits for a writer, for ever if none comes; with it, the open returns
// and the FIFO is refused below. O_NOCTTY: a terminal named by mistake must not become ours.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Reads a file that must be a regular file of at most `maxBytes`: a layout, a link, a key. What it is
 * and how big are checked on the opened file (no swap in between), before anything is read, and the
 * read stops past the limit, so a file that grows meanwhile cannot get by it either.
 *
 * @throws the error of open(2) or read(2) as it is (ENOENT, EACCES, …), each caller words its own;
 *   BAD_INPUT for a path with a NUL byte, which names no file (Node refuses it with an error naming none)
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<RegularFileRead> {
  if (path.includes('\0')) throw new EvidentError('BAD_INPUT', 'the path holds a NUL byte', { file: path });
  const handle = await open(path, OPEN_FLAGS);
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { kind: 'not-regular', problem: notRegular(info) };
    if (info.size > maxBytes) return { kind: 'too-large', size: info.size };
    let buffer = Buffer.allocUnsafe(info.size + 1);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        if (filled > maxBytes) return { kind: 'too-large', size: filled };
        // it grew since it was measured, still within the limit: read on into a larger buffer
        const larger = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(larger, 0, 0, filled);
        buffer = larger;
      }
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) return { kind: 'bytes', bytes: buffer.subarray(0, filled) };
      filled += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** What the file is instead, as `evident: <file>: <this>` reads. */
function notRegular(info: Stats): string {
  if (info.isDirectory()) return 'is a directory, not a file';
  return `is not a regular file (${kindOf(info)})`;
}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'of an unknown kind';
}
