import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from '../helpers/child-process.js';
import { mkdtemp, readFile, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, writeTar, type TarEntry } from '../../src/oci/tar.js';

const longDir = `${'deep-folder-name/'.repeat(8)}`;
const longName = `${longDir}file-with-a-long-name.txt`;

const entries: TarEntry[] = [
  { path: 'a/', type: 'directory', mode: 0o755, mtime: 0 },
  { path: 'a/hello', type: 'file', mode: 0o755, mtime: 1700000000, data: Buffer.from('hello\n') },
  { path: 'a/empty', type: 'file', mode: 0o600, mtime: 0, data: new Uint8Array() },
  { path: 'a/link', type: 'symlink', mode: 0o777, mtime: 0, linkname: 'hello' },
  { path: 'a/hard', type: 'hardlink', mode: 0o644, mtime: 0, linkname: 'a/hello' },
  { path: longName, type: 'file', mode: 0o644, mtime: 0, data: Buffer.alloc(1000, 7) },
  { path: 'a/long-link', type: 'symlink', mode: 0o777, mtime: 0, linkname: `../${longName}` },
  { path: 'a/grüße.txt', type: 'file', mode: 0o644, mtime: 0, data: Buffer.from('utf8 name') },
];

test('write then read gives back every entry, long and non-ASCII names through pax records', () => {
  const archive = writeTar(entries);
  assert.equal(archive.length % 512, 0);
  const back = readTar(archive);
  assert.equal(back.length, entries.length);
  for (const [i, e] of entries.entries()) {
    const b = back[i] as TarEntry;
    assert.equal(b.path, e.path, `entry ${i}`);
    assert.equal(b.type, e.type);
    assert.equal(b.mode, e.mode);
    assert.equal(b.mtime, e.mtime);
    assert.equal(b.uid, 0);
    assert.equal(b.gid, 0);
    if (e.type === 'file') assert.deepEqual(Buffer.from(b.data ?? []), Buffer.from(e.data ?? []));
    if (e.linkname !== undefined) assert.equal(b.linkname, e.linkname);
  }
});

test('the same entries always give the same bytes', () => {
  assert.deepEqual(writeTar(entries), writeTar(entries));
});

test('GNU tar reads what we write (long names included) and we read what GNU tar writes (pax and gnu formats)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-tar-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'ours.tar'), writeTar(entries));
  const listed = execFileSync('tar', ['-tf', join(dir, 'ours.tar')], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '');
  assert.deepEqual(
    listed,
    entries.map((e) => e.path),
  );
  const out = join(dir, 'out');
  await mkdir(out);
  execFileSync('tar', ['-xf', join(dir, 'ours.tar'), '-C', out]);
  assert.equal(await readFile(join(out, longName), 'utf8'), '\x07'.repeat(1000));

  const src = join(dir, 'src');
  await mkdir(join(src, longDir), { recursive: true });
  await writeFile(join(src, longName), 'from gnu tar');
  await symlink(`../${'x'.repeat(120)}`, join(src, 'dangling'));
  for (const format of ['gnu', 'posix', 'ustar']) {
    const file = join(dir, `${format}.tar`);
    const args = ['--format', format, '-cf', file, '-C', src, longName];
    if (format !== 'ustar') args.push('dangling');
    execFileSync('tar', args);
    const read = readTar(await readFile(file));
    const f = read.find((e) => e.path === longName);
    assert.ok(f, `${format}: long name read`);
    assert.equal(Buffer.from(f.data ?? []).toString(), 'from gnu tar');
    if (format !== 'ustar') assert.equal(read.find((e) => e.path === 'dangling')?.linkname, `../${'x'.repeat(120)}`);
  }
});

test('a corrupted header or a truncated archive is refused with a clear error', () => {
  const archive = writeTar(entries.slice(0, 2));
  const corrupt = Buffer.from(archive);
  corrupt[10] = (corrupt[10] as number) ^ 0xff;
  assert.throws(() => readTar(corrupt, 'x.tar'), /header checksum mismatch/);
  assert.throws(() => readTar(archive.subarray(0, 512 + 600), 'x.tar'), /truncated/);
  assert.throws(() => readTar(Buffer.alloc(0), 'x.tar'), /truncated/);
  assert.throws(() => writeTar([{ path: 'dev', type: 'other', mode: 0, mtime: 0 }]), /special file/);
});

/** A raw ustar header block, so a test can say what no honest writer would. */
function rawHeader(name: string, typeflag: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write(typeflag, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

test('a pax size that is negative, fractional or not a number is refused (a negative one looped forever)', () => {
  for (const bad of ['-512', '1.5', 'abc', '', '1e3', '99999999999999999999']) {
    const record = `size=${bad}\n`;
    let n = record.length + 2;
    while (String(n).length + 1 + record.length !== n) n++; // the length counts its own digits
    const rec = `${n} ${record}`;
    const pax = Buffer.alloc(512);
    pax.write(rec);
    const archive = Buffer.concat([
      rawHeader('g', 'g', Buffer.byteLength(rec)),
      pax,
      writeTar([{ path: 'f', type: 'file', mode: 0o644, mtime: 0, data: Buffer.from('x') }]),
    ]);
    assert.throws(
      () => readTar(archive),
      (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /size/.test(e.message),
      `size=${bad}`,
    );
  }
});
