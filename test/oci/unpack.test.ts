import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImageLayout } from '../../src/oci/layout-reader.js';
import { flattenLayers } from '../../src/oci/rootfs.js';
import { readTar, writeTar, type TarEntry } from '../../src/oci/tar.js';
import { unpackLayers } from '../../src/oci/unpack.js';
import { runCli } from '../helpers/cli.js';
import { dir, file, imageProject, layoutOf, link } from './fixtures.js';

async function tmp(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'evident-unpack-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function tree(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) out.push(`${p}/`, ...(await tree(root, p)));
    else if (d.isSymbolicLink()) out.push(`${p} -> ${await readlink(join(root, p))}`);
    else out.push(`${p}=${await readFile(join(root, p), 'utf8')}`);
  }
  return out;
}

test('image unpack writes the root filesystem of a built image; the binary is byte-identical', async (t) => {
  const d = await imageProject(t);
  assert.equal((await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'i.tar'], { cwd: d })).code, 0);
  const r = await runCli(['image', 'unpack', 'i.tar', '-o', 'rootfs'], { cwd: d });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /i\.tar: sha256:[0-9a-f]{64} unpacked into rootfs \(3 files/);
  assert.deepEqual(await readFile(join(d, 'rootfs/usr/local/bin/hello')), await readFile(join(d, 'hello')));
  assert.equal((await stat(join(d, 'rootfs/usr/local/bin/hello'))).mode & 0o777, 0o755);
  const byRef = await runCli(['image', 'unpack', 'i.tar', '-o', 'r2', '--ref', 'hello-world:1.0'], { cwd: d });
  assert.equal(byRef.code, 0, byRef.stderr);
  const wrongRef = await runCli(['image', 'unpack', 'i.tar', '-o', 'r3', '--ref', '2.0'], { cwd: d });
  assert.equal(wrongRef.code, 2);
  assert.match(wrongRef.stderr, /no manifest named '2\.0' \(hello-world:1\.0\)/);
});

test('whiteouts hide only lower layers: .wh.NAME removes a file or tree, .wh..wh..opq empties a folder', async (t) => {
  const lower: TarEntry[] = [
    dir('a/'),
    file('a/b', 'b'),
    file('a/c', 'c'),
    dir('a/sub/'),
    file('a/sub/x', 'x'),
    dir('d/'),
    file('d/e', 'e'),
    file('top', 'old'),
  ];
  const upper: TarEntry[] = [
    file('a/.wh.b', ''),
    file('a/.wh.sub', ''),
    file('d/f', 'new'),
    file('d/.wh..wh..opq', ''),
    file('top', 'new'),
    file('.wh.ghost', ''),
  ];
  const expected = ['a/', 'a/c=c', 'd/', 'd/f=new', 'top=new'];
  const root = join(await tmp(t), 'root');
  const stats = await unpackLayers([writeTar(lower), writeTar(upper)], root);
  assert.deepEqual(await tree(root), expected);
  assert.equal(stats.whiteouts, 4);
  // the in-memory view the SBOM reads applies the same rules
  const mem = flattenLayers([writeTar(lower), writeTar(upper)]);
  assert.deepEqual([...mem.keys()].sort(), ['a', 'a/c', 'd', 'd/f', 'top']);
  // through the CLI, from an image layout
  const work = await tmp(t);
  await writeFile(join(work, 'img.tar'), layoutOf(lower, upper));
  assert.equal((await runCli(['image', 'unpack', 'img.tar', '-o', 'fs'], { cwd: work })).code, 0);
  assert.deepEqual(await tree(join(work, 'fs')), expected);
});

test('paths that would escape the output folder are refused: absolute, .., symlinks out, writes through symlinks', async (t) => {
  const cases: [string, TarEntry[], RegExp][] = [
    ['dot-dot', [file('../evil', 'x')], /refusing path '\.\.\/evil'/],
    ['nested dot-dot', [dir('a/'), file('a/../../evil', 'x')], /'\.\.' would leave the root filesystem/],
    ['absolute', [file('/etc/evil', 'x')], /refusing absolute path '\/etc\/evil'/],
    ['absolute symlink', [link('etc', '/etc')], /refusing symlink to absolute path '\/etc'/],
    ['symlink up', [dir('a/'), link('a/up', '../../outside')], /resolves outside the unpacked root/],
    ['write through symlink', [link('s', '.'), link('t', 's/../x')], /resolves outside the unpacked root/],
    ['later link changes an earlier one', [link('l', 'b/../x'), link('b', '.')], /resolves outside the unpacked root/],
    ['hardlink out', [{ path: 'h', type: 'hardlink', mode: 0o644, mtime: 0, linkname: '../../etc/passwd' }], /refusing path/],
  ];
  for (const [what, entries, message] of cases) {
    const base = await tmp(t);
    const root = join(base, 'deep', 'root');
    await assert.rejects(unpackLayers([writeTar(entries)], root), (e: Error) => {
      assert.match(e.message, message, what);
      return true;
    });
    assert.deepEqual((await readdir(base)).sort(), ['deep'], `${what}: nothing written beside the root`);
    assert.deepEqual(await readdir(join(base, 'deep')), ['root'], `${what}: nothing written beside the root`);
    for (const p of await tree(root)) assert.ok(!p.includes('->') || !/-> (\/|\.\.)/.test(p), `${what}: no escaping link left: ${p}`);
  }
  // through the CLI: exit 2 with the image file named
  const work = await tmp(t);
  await writeFile(join(work, 'evil.tar'), layoutOf([file('../evil', 'x')]));
  const r = await runCli(['image', 'unpack', 'evil.tar', '-o', 'fs'], { cwd: work });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^evident: evil\.tar: layer 0: \.\.\/evil: refusing path/);
});

test('symlinks inside the root are kept, and writes through them stay inside', async (t) => {
  const root = join(await tmp(t), 'root');
  await unpackLayers(
    [writeTar([dir('usr/'), dir('usr/lib/'), link('lib', 'usr/lib'), file('lib/libz.so.1', 'z'), link('usr/lib/libz.so', 'libz.so.1')])],
    root,
  );
  assert.equal(await readFile(join(root, 'usr/lib/libz.so.1'), 'utf8'), 'z');
  assert.ok((await lstat(join(root, 'lib'))).isSymbolicLink());
  assert.equal(await readFile(join(root, 'usr/lib/libz.so'), 'utf8'), 'z');
});

test('a swapped layer, an edited manifest or config, a missing blob: unpack refuses with a clear message', async (t) => {
  const d = await imageProject(t);
  assert.equal((await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'i.tar'], { cwd: d })).code, 0);
  const tarball = await readFile(join(d, 'i.tar'));
  const img = readImageLayout(tarball);
  const entries = readTar(tarball);
  const rewrite = async (name: string, change: (e: TarEntry[]) => TarEntry[]) =>
    writeFile(join(d, name), writeTar(change(entries.map((e) => ({ ...e })))));
  const blobPath = (digest: string) => `blobs/sha256/${digest.slice(7)}`;

  // a different binary's layer under the original layer's name: a swapped layer
  const other = await imageProject(t);
  await writeFile(join(other, 'hello'), 'a rogue binary');
  await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'rogue.tar'], { cwd: other });
  const rogue = readImageLayout(await readFile(join(other, 'rogue.tar')));
  const rogueLayer = readTar(await readFile(join(other, 'rogue.tar'))).find(
    (e) => e.path === blobPath(rogue.manifest.layers[0]?.digest as string),
  );
  await rewrite('swapped.tar', (es) =>
    es.map((e) => (e.path === blobPath(img.manifest.layers[0]?.digest as string) ? { ...e, data: rogueLayer?.data } : e)),
  );
  const swapped = await runCli(['image', 'unpack', 'swapped.tar', '-o', 'fs'], { cwd: d });
  assert.equal(swapped.code, 1, swapped.stderr);
  assert.match(
    swapped.stderr,
    /^evident: swapped\.tar: layer 0: blob sha256:[0-9a-f]{64} has digest sha256:[0-9a-f]{64}: its content was changed or swapped\n$/,
  );
  await assert.rejects(lstat(join(d, 'fs', 'usr')), 'nothing unpacked from a tampered image');

  await rewrite('config.tar', (es) =>
    es.map((e) =>
      e.path === blobPath(img.manifest.config.digest)
        ? {
            ...e,
            data: Buffer.from(
              Buffer.from(e.data ?? [])
                .toString()
                .replace('amd64', 'arm64'),
            ),
          }
        : e,
    ),
  );
  const config = await runCli(['image', 'inspect', 'config.tar'], { cwd: d });
  assert.equal(config.code, 1);
  assert.match(config.stderr, /config: blob sha256:[0-9a-f]{64} has digest/);

  await rewrite('missing.tar', (es) => es.filter((e) => e.path !== blobPath(img.manifest.layers[0]?.digest as string)));
  const missing = await runCli(['image', 'unpack', 'missing.tar', '-o', 'fs'], { cwd: d });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /layer 0: blob sha256:[0-9a-f]{64} is missing from the layout/);

  await writeFile(join(d, 'notatar.tar'), 'hello');
  const notTar = await runCli(['image', 'unpack', 'notatar.tar', '-o', 'fs'], { cwd: d });
  assert.equal(notTar.code, 2);
  assert.match(notTar.stderr, /^evident: notatar\.tar: tar: /);
  assert.equal((await runCli(['image', 'unpack', 'absent.tar', '-o', 'fs'], { cwd: d })).code, 2);
});

test('a whiteout of a folder that lower layers only implied (no folder entry) removes what is below it', async (t) => {
  const lower: TarEntry[] = [file('impl/a', 'a'), file('impl/sub/b', 'b'), file('keep', 'k')];
  const upper: TarEntry[] = [file('.wh.impl', '')];
  assert.deepEqual([...flattenLayers([writeTar(lower), writeTar(upper)]).keys()], ['keep']);
  const root = join(await tmp(t), 'root');
  await unpackLayers([writeTar(lower), writeTar(upper)], root);
  assert.deepEqual(await tree(root), ['keep=k']);
});

test('unpacking into a folder that already holds files is refused: the image could whiteout or overwrite them', async (t) => {
  const root = join(await tmp(t), 'home');
  await mkdir(root);
  await writeFile(join(root, '.bashrc'), 'mine');
  for (const layer of [[file('.wh..bashrc', '')], [file('.wh..wh..opq', '')], [file('.bashrc', 'theirs')]]) {
    await assert.rejects(
      unpackLayers([writeTar(layer)], root),
      (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /not empty/.test(e.message),
    );
    assert.equal(await readFile(join(root, '.bashrc'), 'utf8'), 'mine');
  }
  // an existing empty folder is fine
  const empty = join(await tmp(t), 'empty');
  await mkdir(empty);
  await unpackLayers([writeTar([file('f', 'x')])], empty);
  assert.equal(await readFile(join(empty, 'f'), 'utf8'), 'x');
});
