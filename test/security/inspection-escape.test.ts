/**
 * Inspections run in a scratch copy of the delivered work folder. The copy kept symlinks as they were, so a
 * delivery whose `rootfs` was a symlink to a folder outside made an inspection such as
 * `evident image unpack hello-image.tar -o rootfs` write there, before verification failed. Symlinks that
 * lead out of the workspace are now refused (the inspection fails, naming the link), `image unpack` refuses
 * an output folder that is a symlink, and recording no longer descends into symlinked folders unless asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { saveKeyPair } from '../../src/crypto/key-files.js';
import type { Inspection, Link, Metablock } from '../../src/intoto/models/types.js';
import { collectArtifacts } from '../../src/intoto/record/collect.js';
import { formatReport, verify } from '../../src/intoto/verify/index.js';
import { runCli } from '../helpers/cli.js';
import { alice, chainLayout, chainLinks, owner, signers, SOURCES } from '../intoto/verify/chain.js';
import { inspection, linkName, put, sign, tempDir } from '../intoto/verify/fixtures.js';
import { file, layoutOf } from '../oci/fixtures.js';

/** An empty folder outside every work folder and workspace: what the attacker's symlinks point at. */
async function outsideFolder(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-outside-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `node --import TSX evident.mjs ARGS…` runs the CLI from source, as an inspection's command would run it. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const EVIDENT_LAUNCHER = `import { main } from ${JSON.stringify(new URL('../../src/cli/main.ts', import.meta.url).href)};
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
`;

/** Verifies the honest chain over a work folder holding the sources, `files` and `links` (path → target), with `inspect`. */
async function verifyDelivery(links: Record<string, string>, inspect: Inspection[], files: Record<string, Buffer> = {}) {
  const tmp = await tempDir();
  try {
    const work = join(tmp.dir, 'work');
    for (const [path, content] of Object.entries(SOURCES)) await put(work, path, content);
    for (const [path, content] of Object.entries(files)) await writeFile(join(work, path), content);
    for (const [path, target] of Object.entries(links)) {
      await mkdir(join(work, path, '..'), { recursive: true });
      await symlink(target, join(work, path));
    }
    const signed: Record<string, Metablock<Link>> = {};
    for (const [name, l] of Object.entries(chainLinks())) signed[linkName(name, signers[name]!())] = sign(l, [signers[name]!()]);
    const layout = sign(chainLayout({ inspect }), [owner()]);
    const report = await verify({ layout, layoutKeys: [owner().publicKey], links: signed, workDir: work });
    return { report, text: formatReport(report) };
  } finally {
    await tmp.cleanup();
  }
}

const PLANT_KEY = 'mkdir -p rootfs/root && echo attacker-key > rootfs/root/authorized_keys';
const plant = inspection('plant', ['sh', '-c', PLANT_KEY], ['ALLOW *'], ['ALLOW *']);

test('(a) a delivered `rootfs` symlink to an absolute folder outside: the inspection is refused, nothing written there', async (t) => {
  const outside = await outsideFolder(t);
  const { report, text } = await verifyDelivery({ rootfs: outside }, [plant]);
  assert.deepEqual(await readdir(outside), [], 'the inspection wrote outside its workspace');
  assert.equal(report.ok, false, text);
  assert.match(text, new RegExp(`^✗ plant: .* failed: symlink 'rootfs' -> '${outside}' leads outside the inspection workspace`, 'm'));
});

test('(a) the same through the real `evident image unpack hello-image.tar -o rootfs`', async (t) => {
  const outside = await outsideFolder(t);
  const tools = await outsideFolder(t);
  const evident = join(tools, 'evident.mjs');
  await writeFile(evident, EVIDENT_LAUNCHER);
  const image = layoutOf([file('root/.ssh/authorized_keys', 'attacker-key\n')]);
  const command = ['node', '--import', TSX, evident, 'image', 'unpack', 'hello-image.tar', '-o', 'rootfs'];
  const unpack = inspection('unpack', command, ['ALLOW *'], ['ALLOW *']);
  const { report, text } = await verifyDelivery({ rootfs: outside }, [unpack], { 'hello-image.tar': image });
  assert.deepEqual(await readdir(outside), [], 'the image was unpacked outside the workspace');
  assert.equal(report.ok, false, text);
  assert.match(text, new RegExp(`^✗ unpack: .* failed: symlink 'rootfs' -> '${outside}' leads outside the inspection workspace`, 'm'));
});

test('(b) relative escapes: `..` out of the workspace, chains, and a `.` link followed by `..`', async (t) => {
  const outside = await outsideFolder(t);
  const name = basename(outside); // the workspace is made in the same tmpdir, so `../NAME` from its root is `outside`
  const cases: [Record<string, string>, RegExp][] = [
    [{ rootfs: `../${name}` }, new RegExp(`symlink 'rootfs' -> '\\.\\./${name}' leads outside`)],
    [{ 'a/b/rootfs': `../../../${name}` }, /symlink 'a\/b\/rootfs' -> '\.\.\/\.\.\/\.\.\/.*' leads outside/],
    [{ rootfs: 'hop', hop: `../${name}` }, /symlink '(rootfs' -> 'hop|hop' -> '\.\.\/[^']*)' leads outside/], // either link of the chain
    [{ here: '.', rootfs: `here/../${name}` }, /symlink 'rootfs' -> 'here\/\.\.\/.*' leads outside/],
    [{ 'sub/here': '..', rootfs: `sub/here/../${name}` }, /symlink 'rootfs' -> 'sub\/here\/\.\.\/.*' leads outside/],
  ];
  for (const [links, reason] of cases) {
    const { report, text } = await verifyDelivery(links, [plant]);
    assert.deepEqual(await readdir(outside), [], `${JSON.stringify(links)}: the inspection wrote outside its workspace`);
    assert.equal(report.ok, false, text);
    assert.match(text, reason, JSON.stringify(links));
  }
});

test('(c) symlinks that stay inside the workspace are kept, and the inspection records them without following', async () => {
  const inside = inspection(
    'inside',
    [
      'sh',
      '-c',
      'mkdir -p build/rootfs rootfs/root && echo key > rootfs/root/authorized_keys && test -f build/rootfs/root/authorized_keys',
    ],
    ['ALLOW *'],
    // the products are recorded under the real folder only: the `rootfs` link is not descended into
    ['CREATE build/rootfs/root/authorized_keys', 'DISALLOW rootfs/*', 'ALLOW *'],
  );
  const { report, text } = await verifyDelivery({ rootfs: 'hop', hop: 'build/rootfs', 'src/up': '..', 'src/self': '../src' }, [inside]);
  assert.equal(report.ok, true, text);
  assert.match(text, /^✓ inside: .* ran and exited with 0$/m);
});

test('(d) image unpack -o <symlink> is refused with exit 2 and one line; nothing is written', async (t) => {
  const outside = await outsideFolder(t);
  const work = await outsideFolder(t);
  await writeFile(join(work, 'img.tar'), layoutOf([file('etc/passwd', 'root::0:0::/root:/bin/sh\n')]));
  await symlink(outside, join(work, 'rootfs'));
  await symlink(join(outside, 'new'), join(work, 'dangling')); // mkdir would create its target
  for (const out of ['rootfs', 'rootfs/', 'dangling']) {
    const r = await runCli(['image', 'unpack', 'img.tar', '-o', out], { cwd: work, env: {} });
    assert.equal(r.code, 2, `${out}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^evident: img\\.tar: output folder \\S*/${out.replace(/\/$/, '')} is a symlink; [^\\n]*\\n$`));
    assert.deepEqual(await readdir(outside), [], `${out}: unpack wrote through the symlink`);
  }
});

test('(e) recording does not descend into a symlinked folder by default; --follow-symlink-dirs opts in', async () => {
  const tmp = await tempDir();
  try {
    const work = join(tmp.dir, 'work');
    await put(work, 'src/main.c', SOURCES['src/main.c']);
    await put(tmp.dir, 'elsewhere/big.bin', 'a large tree outside the delivery');
    await symlink('../elsewhere', join(work, 'linked'));
    assert.deepEqual(Object.keys(await collectArtifacts(['.'], { basePath: work })), ['src/main.c']);
    assert.deepEqual(Object.keys(await collectArtifacts(['.'], { basePath: work, followSymlinkDirs: true })), [
      'linked/big.bin',
      'src/main.c',
    ]);

    const key = join(tmp.dir, 'key');
    await saveKeyPair(alice(), key);
    const materials = async (name: string, extra: string[]) => {
      const r = await runCli(['run', '-n', name, '-k', key, '-m', '.', '-x', '-d', tmp.dir, '-q', ...extra], { cwd: work });
      assert.equal(r.code, 0, r.stderr);
      const link = JSON.parse(await readFile(join(tmp.dir, linkName(name, alice())), 'utf8')) as Metablock<Link>;
      return Object.keys(link.signed.materials);
    };
    assert.deepEqual(await materials('plain', []), ['src/main.c']);
    assert.deepEqual(await materials('followed', ['--follow-symlink-dirs']), ['linked/big.bin', 'src/main.c']);
    const help = await runCli(['run', '--help'], { cwd: work });
    assert.match(help.stdout, /--follow-symlink-dirs/);
  } finally {
    await tmp.cleanup();
  }
});

test('(f) a symlink the inspection itself makes, leading out: the inspection fails before its products are hashed', async (t) => {
  const outside = await outsideFolder(t);
  await writeFile(join(outside, 'secret.txt'), 'not for the report');
  const makeLink = inspection('extract', ['ln', '-s', join(outside, 'secret.txt'), 'hello'], ['ALLOW *'], ['ALLOW *']);
  const { report, text } = await verifyDelivery({}, [makeLink]);
  assert.equal(report.ok, false, text);
  assert.match(text, /^✗ extract: .* failed: symlink 'hello' -> '.*secret\.txt' leads outside the inspection workspace/m);
  const digest = createHash('sha256').update('not for the report').digest('hex');
  assert.ok(!JSON.stringify(report).includes(digest), 'the digest of a file outside the workspace is not in the report');
});
