/**
 * `evident image build --manifest FILE`: the manifest blob's exact bytes, so a step's link can record them
 * as a product whose sha256 is the digest a registry and a cluster name the image by (`name@sha256:…`, the
 * digest the deployment gate looks up). Checked against skopeo, an OCI reader that is not ours.
 */
import assert from 'node:assert/strict';
import { execFileSync } from '../helpers/child-process.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { imageProject } from '../oci/fixtures.js';

const SKOPEO = '/usr/bin/skopeo';
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test(
  '--manifest writes the bytes whose sha256 skopeo reports as the image digest',
  { skip: !existsSync(SKOPEO) && 'SKIPPED: skopeo is not installed (.ci/run installs it)' },
  async (t) => {
    const dir = await imageProject(t);
    const r = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'image.tar', '--manifest', 'image.manifest.json', '--json'], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as { manifestDigest: string; manifest: string };
    assert.equal(printed.manifest, 'image.manifest.json');
    const manifest = await readFile(join(dir, 'image.manifest.json'));
    assert.equal(sha256(manifest), printed.manifestDigest);

    const inspected = JSON.parse(execFileSync(SKOPEO, ['inspect', `oci-archive:${join(dir, 'image.tar')}`], { encoding: 'utf8' })) as {
      Digest: string;
    };
    assert.equal(inspected.Digest, sha256(manifest), 'skopeo names the image by the sha256 of the --manifest file');
    const raw = execFileSync(SKOPEO, ['inspect', '--raw', `oci-archive:${join(dir, 'image.tar')}`]);
    assert.ok(raw.equals(manifest), 'the file is the manifest blob byte for byte');
  },
);

test('--manifest: the text output names the file; a rebuild writes the same bytes', async (t) => {
  const dir = await imageProject(t);
  const a = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'a.tar', '--manifest', 'a.json'], { cwd: dir });
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^a\.tar: hello-world:1\.0 sha256:[0-9a-f]{64} \(manifest: a\.json\)\n$/);
  const b = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'b.tar', '--manifest', 'b.json'], { cwd: dir });
  assert.equal(b.code, 0, b.stderr);
  assert.ok((await readFile(join(dir, 'a.json'))).equals(await readFile(join(dir, 'b.json'))));
});

test('--manifest into a folder that does not exist fails with one line and writes no image', async (t) => {
  const dir = await imageProject(t);
  const r = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'c.tar', '--manifest', 'missing/c.json'], { cwd: dir });
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(!existsSync(join(dir, 'c.tar')), 'no image without its manifest file');
});
