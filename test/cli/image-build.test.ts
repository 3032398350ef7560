import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { MEDIA_TYPES, REF_NAME_ANNOTATION } from '../../src/oci/digest.js';
import { readImageLayout } from '../../src/oci/layout-reader.js';
import { flattenLayers } from '../../src/oci/rootfs.js';
import { readTar } from '../../src/oci/tar.js';
import { runCli } from '../helpers/cli.js';
import { imageProject } from '../oci/fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('image build is reproducible: same inputs, byte-identical tarball; one changed byte of the binary, another digest', async (t) => {
  const dir = await imageProject(t);
  const a = await runCli(['image', 'build', '--config', 'image.yaml', '-o', 'a.tar'], { cwd: dir });
  assert.equal(a.code, 0, a.stderr);
  const b = await runCli(['image', 'build', '--config', 'image.yaml', '-o', 'b.tar', '--json'], { cwd: dir });
  assert.equal(b.code, 0, b.stderr);
  const ta = await readFile(join(dir, 'a.tar'));
  assert.equal(sha(ta), sha(await readFile(join(dir, 'b.tar'))));
  const first = JSON.parse(b.stdout) as { manifestDigest: string };
  assert.match(a.stdout, new RegExp(`a.tar: hello-world:1.0 ${first.manifestDigest}`));

  const hello = await readFile(join(dir, 'hello'));
  hello[5] = (hello[5] as number) ^ 1;
  await writeFile(join(dir, 'hello'), hello);
  const c = await runCli(['image', 'build', '--config', 'image.yaml', '-o', 'c.tar', '--json'], { cwd: dir });
  assert.notEqual((JSON.parse(c.stdout) as { manifestDigest: string }).manifestDigest, first.manifestDigest);
});

test('the layout holds the OCI files, media types, annotations, a fixed gzip header and fixed tar metadata', async (t) => {
  const dir = await imageProject(t);
  assert.equal((await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'i.tar'], { cwd: dir })).code, 0);
  const tarball = await readFile(join(dir, 'i.tar'));
  const outer = readTar(tarball);
  assert.deepEqual(
    outer.map((e) => e.path).filter((p) => !/^blobs\/sha256\/[0-9a-f]/.test(p)),
    ['blobs/', 'blobs/sha256/', 'index.json', 'oci-layout'],
  );
  for (const e of outer) {
    assert.equal(e.mtime, 0);
    assert.equal(e.uid, 0);
    if (e.path.startsWith('blobs/sha256/') && e.type === 'file')
      assert.equal(sha(e.data ?? new Uint8Array()), e.path.slice(13), 'blob named by its digest');
  }
  assert.deepEqual(tarball.subarray(257, 265).toString('latin1'), 'ustar\x0000');
  assert.equal(tarball.subarray(265, 329).toString('latin1').replace(/\0/g, ''), '', 'no user or group names');
  const img = readImageLayout(tarball);
  assert.equal(img.index.mediaType, MEDIA_TYPES.index);
  assert.equal(img.manifestDescriptor.mediaType, MEDIA_TYPES.manifest);
  assert.equal(img.manifestDescriptor.annotations?.[REF_NAME_ANNOTATION], '1.0');
  assert.equal(img.name, 'hello-world');
  assert.equal(img.manifest.config.mediaType, MEDIA_TYPES.config);
  assert.equal(img.manifest.layers[0]?.mediaType, MEDIA_TYPES.layerGzip);
  assert.deepEqual(img.config.config.Entrypoint, ['/usr/local/bin/hello']);
  assert.deepEqual(img.config.config.Env, ['PATH=/usr/local/bin:/usr/bin']);
  assert.equal(img.config.created, undefined, 'no creation time without SOURCE_DATE_EPOCH');
  const layerBlob = outer.find((e) => e.path === `blobs/sha256/${img.manifest.layers[0]?.digest.slice(7)}`)?.data as Uint8Array;
  assert.deepEqual([...layerBlob.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255], 'gzip: no name, mtime 0, OS 255');
  const layer = readTar(gunzipSync(layerBlob));
  assert.deepEqual(
    layer.map((e) => e.path),
    [
      'usr/',
      'usr/lib/',
      'usr/lib/libz.so.1',
      'usr/local/',
      'usr/local/bin/',
      'usr/local/bin/hello',
      'var/',
      'var/lib/',
      'var/lib/evident/',
      'var/lib/evident/packages.json',
    ],
  );
  assert.equal(layer.find((e) => e.path === 'usr/local/bin/hello')?.mode, 0o755, 'mode 0755 read as octal');
  assert.equal(layer.find((e) => e.path === 'usr/lib/libz.so.1')?.mode, 0o644);
  const db = JSON.parse(
    Buffer.from(flattenLayers([img.layers[0]?.tar as Buffer]).get('var/lib/evident/packages.json')?.data ?? []).toString(),
  ) as { packages: { name: string; version: string; files: { path: string; sha256: string }[] }[] };
  assert.equal(db.packages[0]?.name, 'zlib');
  assert.equal(db.packages[0]?.version, '1.3.1');
  assert.equal(db.packages[0]?.files[0]?.sha256, sha(Buffer.from('zlib 1.3.1 stand-in\n')));
});

test('SOURCE_DATE_EPOCH sets the entry times and the config created time, still reproducibly', async (t) => {
  const dir = await imageProject(t);
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'a.tar'], { cwd: dir, env });
  await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'b.tar'], { cwd: dir, env });
  const a = await readFile(join(dir, 'a.tar'));
  assert.equal(sha(a), sha(await readFile(join(dir, 'b.tar'))));
  const img = readImageLayout(a);
  assert.equal(img.config.created, '2023-11-14T22:13:20Z');
  assert.ok(readTar(img.layers[0]?.tar as Buffer).every((e) => e.mtime === 1700000000));
  const bad = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'c.tar'], { cwd: dir, env: { SOURCE_DATE_EPOCH: 'yesterday' } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /SOURCE_DATE_EPOCH must be a whole number/);
});

test('a bad image spec: exit 2, one line per problem naming the file', async (t) => {
  const dir = await imageProject(
    t,
    `name: Hello World
tagz: 1
files:
  - {src: hello, dest: usr/bin/hello, mode: 0999}
  - {src: missing, dest: /x}
`,
  );
  const r = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'i.tar'], { cwd: dir });
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.ok(
    lines.every((l) => l.startsWith('evident: image.yaml: image spec: ')),
    r.stderr,
  );
  assert.match(r.stderr, /tagz: unknown field/);
  assert.match(r.stderr, /name: 'Hello World' is not an image name/);
  assert.match(r.stderr, /files\[0\]\.dest: 'usr\/bin\/hello' must be an absolute path/);
  assert.match(r.stderr, /files\[0\]\.mode: '0999' is not an octal mode/);

  const missing = await imageProject(t, 'name: x\nfiles: [{src: nothere, dest: /x}]\n');
  const m = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'i.tar'], { cwd: missing });
  assert.equal(m.code, 2);
  assert.match(m.stderr, /cannot read .*nothere: no such file/);
  const none = await runCli(['image', 'build', '-c', 'nope.yaml', '-o', 'i.tar'], { cwd: missing });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no such file/);
});

test('image inspect prints the manifest digest, config and layers; --json is machine-readable', async (t) => {
  const dir = await imageProject(t);
  const b = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'i.tar', '--json'], { cwd: dir });
  const digest = (JSON.parse(b.stdout) as { manifestDigest: string }).manifestDigest;
  const text = await runCli(['image', 'inspect', 'i.tar'], { cwd: dir });
  assert.equal(text.code, 0);
  assert.match(text.stdout, new RegExp(`manifest: ${digest}`));
  assert.match(text.stdout, /layer 0: {2}sha256:[0-9a-f]{64} \d+ bytes/);
  const json = JSON.parse((await runCli(['image', 'inspect', 'i.tar', '--json'], { cwd: dir })).stdout) as {
    manifestDigest: string;
    layers: unknown[];
    config: { os: string };
  };
  assert.equal(json.manifestDigest, digest);
  assert.equal(json.layers.length, 1);
  assert.equal(json.config.os, 'linux');
});
