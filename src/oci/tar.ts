import { EvidentError } from '../errors.js';

/**
 * A small POSIX tar (ustar + pax) writer and reader, enough for OCI image layouts and their layers.
 * The writer is deterministic: the caller chooses every field, owners are numeric 0 with no names, and a
 * name too long for the ustar field (or not ASCII) goes into a pax `path` record, never a GNU extension.
 */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** Path inside the archive, `/`-separated; directories may end in `/`. */
  path: string;
  type: TarEntryType;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  data?: Uint8Array;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  uid?: number;
  gid?: number;
}

const BLOCK = 512;
const TYPE_FLAGS: Record<Exclude<TarEntryType, 'other'>, string> = { file: '0', hardlink: '1', symlink: '2', directory: '5' };
const MAX_OCTAL_SIZE = 0o77777777777;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function fitsUstar(s: string, width: number): boolean {
  return /^[\x20-\x7e]*$/.test(s) && Buffer.byteLength(s) <= width;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  // the length prefix counts its own digits
  while (String(len + String(len).length).length !== String(len).length) len++;
  const total = len + String(len).length;
  return `${total}${body}`;
}

function header(name: string, type: string, mode: number, size: number, mtime: number, linkname: string, uid: number, gid: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(uid, 8), 108, 'ascii');
  h.write(octal(gid, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(octal(0, 8), 329, 'ascii');
  h.write(octal(0, 8), 337, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function padded(data: Uint8Array): Buffer[] {
  const rest = data.length % BLOCK;
  return rest === 0 ? [Buffer.from(data)] : [Buffer.from(data), Buffer.alloc(BLOCK - rest)];
}

/** Serializes entries in the order given (callers sort them when they want reproducible output). */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.type === 'other') throw new EvidentError('UNSUPPORTED', `tar: cannot write special file ${e.path}`);
    const data = e.type === 'file' ? (e.data ?? new Uint8Array()) : new Uint8Array();
    const path = e.type === 'directory' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
    const linkname = e.linkname ?? '';
    let pax = '';
    if (!fitsUstar(path, 100)) pax += paxRecord('path', path);
    if (!fitsUstar(linkname, 100)) pax += paxRecord('linkpath', linkname);
    if (data.length > MAX_OCTAL_SIZE) pax += paxRecord('size', String(data.length));
    if (pax !== '') {
      const paxData = Buffer.from(pax, 'utf8');
      const base = path.replace(/\/$/, '').split('/').pop() ?? 'entry';
      const paxName = `PaxHeaders/${base.replace(/[^\x20-\x7e]/g, '_')}`.slice(0, 99);
      parts.push(header(paxName, 'x', 0o644, paxData.length, e.mtime, '', 0, 0), ...padded(paxData));
    }
    const shortName = fitsUstar(path, 100) ? path : path.replace(/[^\x20-\x7e]/g, '_').slice(-99);
    const shortLink = fitsUstar(linkname, 100) ? linkname : '';
    const size = data.length > MAX_OCTAL_SIZE ? 0 : data.length;
    parts.push(header(shortName, TYPE_FLAGS[e.type], e.mode, size, e.mtime, shortLink, e.uid ?? 0, e.gid ?? 0));
    if (data.length > 0) parts.push(...padded(data));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function field(block: Buffer, offset: number, width: number): string {
  const raw = block.subarray(offset, offset + width);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? width : end).toString('utf8');
}

function numeric(block: Buffer, offset: number, width: number, what: string, where: string): number {
  const raw = block.subarray(offset, offset + width);
  if ((raw[0] ?? 0) & 0x80) {
    // GNU base-256: big-endian binary after the marker bit
    let n = (raw[0] ?? 0) & 0x7f;
    for (let i = 1; i < width; i++) n = n * 256 + (raw[i] ?? 0);
    return n;
  }
  const text = raw.toString('ascii').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new EvidentError('BAD_INPUT', `tar: ${where}: malformed ${what} field '${text}'`);
  return parseInt(text, 8);
}

function parsePax(data: Buffer, where: string): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = Number(data.subarray(pos, space).toString('ascii'));
    if (space === -1 || !Number.isInteger(len) || len <= 0 || pos + len > data.length) {
      throw new EvidentError('BAD_INPUT', `tar: ${where}: malformed pax extended header`);
    }
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq === -1) throw new EvidentError('BAD_INPUT', `tar: ${where}: malformed pax record`);
    records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return records;
}

/**
 * Parses a tar archive (ustar, pax, and the GNU long-name records other tools write). Checksums are
 * verified; a truncated archive is an error.
 */
export function readTar(archive: Uint8Array, name = 'archive'): TarEntry[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const entries: TarEntry[] = [];
  let pos = 0;
  let pax = new Map<string, string>();
  let globalPax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  while (pos + BLOCK <= buf.length) {
    const block = buf.subarray(pos, pos + BLOCK);
    if (block.every((b) => b === 0)) return entries;
    const where = `${name} at offset ${pos}`;
    const stored = numeric(block, 148, 8, 'checksum', where);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    if (sum !== stored) throw new EvidentError('BAD_INPUT', `tar: ${where}: header checksum mismatch (not a tar archive, or corrupted)`);
    const typeflag = String.fromCharCode(block[156] as number);
    let size = numeric(block, 124, 12, 'size', where);
    const overrides = new Map([...globalPax, ...pax]);
    if (overrides.has('size')) {
      // A negative size would step back onto this very header: the reader would loop forever.
      const text = overrides.get('size') ?? '';
      size = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(size)) throw new EvidentError('BAD_INPUT', `tar: ${where}: malformed pax size '${text}'`);
    }
    const start = pos + BLOCK;
    const end = start + size;
    if (end > buf.length) throw new EvidentError('BAD_INPUT', `tar: ${where}: archive is truncated`);
    const data = buf.subarray(start, end);
    pos = start + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x') {
      pax = parsePax(data, where);
      continue;
    }
    if (typeflag === 'g') {
      globalPax = new Map([...globalPax, ...parsePax(data, where)]);
      continue;
    }
    if (typeflag === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (typeflag === 'K') {
      longLink = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const magic = block.subarray(257, 262).toString('ascii');
    const prefix = magic === 'ustar' ? field(block, 345, 155) : '';
    let path = overrides.get('path') ?? longName ?? (prefix !== '' ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
    const linkname = overrides.get('linkpath') ?? longLink ?? field(block, 157, 100);
    const type: TarEntryType =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'directory'
          : typeflag === '2'
            ? 'symlink'
            : typeflag === '1'
              ? 'hardlink'
              : 'other';
    if (type === 'file' && path.endsWith('/')) path = path.slice(0, -1);
    const entry: TarEntry = {
      path,
      type,
      mode: numeric(block, 100, 8, 'mode', where),
      mtime: overrides.has('mtime') ? Math.floor(Number(overrides.get('mtime'))) : numeric(block, 136, 12, 'mtime', where),
      uid: numeric(block, 108, 8, 'uid', where),
      gid: numeric(block, 116, 8, 'gid', where),
    };
    if (type === 'file') entry.data = new Uint8Array(data);
    if (type === 'symlink' || type === 'hardlink') entry.linkname = linkname;
    entries.push(entry);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
  }
  if (pos === buf.length && entries.length > 0) return entries; // some writers omit the end-of-archive blocks
  throw new EvidentError('BAD_INPUT', `tar: ${name}: archive is truncated`);
}
