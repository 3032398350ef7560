/**
 * Agreement with the reference: supply chains recorded at test time by the Python in-toto (keys and
 * layouts through its API, links by `in-toto-run`), verified by `in-toto-verify` and by evident; the two
 * verdicts must be equal, for the honest chain and for each tampered variant.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPublicKey } from '../../../src/crypto/key-files.js';
import { formatReport, verify } from '../../../src/intoto/verify/index.js';
import { referenceInstalled, runReferenceCli, runReferencePython, skipUnlessReference } from '../../helpers/reference.js';

let root = '';
const keyids: Record<string, string> = {};

/** Keys and layouts through the reference's API; every layout is signed by `owner`. */
const SETUP = String.raw`
import json
from securesystemslib.interface import generate_and_write_unencrypted_ed25519_keypair, import_ed25519_privatekey_from_file, import_ed25519_publickey_from_file
from in_toto.models.layout import Layout, Step, Inspection
from in_toto.models.metadata import Metablock
names = ['owner', 'alice', 'bob', 'carol', 'mallory']
for n in names:
    generate_and_write_unencrypted_ed25519_keypair('keys/' + n)
pub = {n: import_ed25519_publickey_from_file('keys/' + n + '.pub') for n in names}
owner = import_ed25519_privatekey_from_file('keys/owner')
def rules(*texts):
    return [t.split(' ') for t in texts]
def make(expires, inspect=False, build_keys=('bob',), threshold=1):
    layout = Layout()
    layout.expires = expires
    for n in ['alice', 'bob', 'carol']:
        layout.add_functionary_key(pub[n])
    code = Step(name='code'); code.pubkeys = [pub['alice']['keyid']]
    code.expected_products = rules('CREATE src/*', 'DISALLOW *')
    build = Step(name='build'); build.pubkeys = [pub[n]['keyid'] for n in build_keys]; build.threshold = threshold
    build.expected_command = ['sh', '-c', 'cat src/main.c > hello']
    build.expected_materials = rules('MATCH src/* WITH PRODUCTS FROM code', 'DISALLOW *')
    build.expected_products = rules('CREATE hello', 'DISALLOW *')
    package = Step(name='package'); package.pubkeys = [pub['carol']['keyid']]
    package.expected_materials = rules('MATCH hello WITH PRODUCTS FROM build', 'DISALLOW *')
    package.expected_products = rules('CREATE hello.tar.gz', 'DISALLOW *')
    layout.steps = [code, build, package]
    if inspect:
        unpack = Inspection(name='unpack'); unpack.run = ['tar', 'xzf', 'hello.tar.gz']
        unpack.expected_materials = rules('MATCH hello.tar.gz WITH PRODUCTS FROM package', 'MATCH src/* WITH PRODUCTS FROM code', 'ALLOW hello', 'DISALLOW *')
        unpack.expected_products = rules('MATCH hello WITH PRODUCTS FROM build', 'ALLOW *')
        layout.inspect = [unpack]
    m = Metablock(signed=layout)
    m.sign(owner)
    return m
make('2100-01-01T00:00:00Z').dump('root.layout')
make('2001-01-01T00:00:00Z').dump('expired.layout')
make('2100-01-01T00:00:00Z', inspect=True).dump('inspect.layout')
make('2100-01-01T00:00:00Z', build_keys=('bob', 'carol'), threshold=2).dump('threshold.layout')
# bob delegates build to a sublayout whose one step, compile, carol performs
sub = Layout()
sub.expires = '2100-01-01T00:00:00Z'
sub.add_functionary_key(pub['carol'])
compile_step = Step(name='compile'); compile_step.pubkeys = [pub['carol']['keyid']]
compile_step.expected_materials = rules('ALLOW src/*', 'DISALLOW *')
compile_step.expected_products = rules('CREATE hello', 'DISALLOW *')
sub.steps = [compile_step]
m = Metablock(signed=sub)
m.sign(import_ed25519_privatekey_from_file('keys/bob'))
m.dump('sublayout.link')
print(json.dumps({n: pub[n]['keyid'] for n in names}))
`;

async function inTotoRun(cwd: string, links: string, key: string, args: string[]): Promise<void> {
  const r = await runReferenceCli('in-toto-run', ['-k', join(root, 'keys', key), '-t', 'ed25519', '-d', links, ...args], { cwd });
  assert.equal(r.code, 0, `in-toto-run failed: ${r.stderr}`);
}

before(async () => {
  if (!referenceInstalled) return;
  root = await mkdtemp(join(tmpdir(), 'evident-verify-ref-'));
  for (const dir of ['keys', 'work/src', 'honest', 'changed']) await mkdir(join(root, dir), { recursive: true });
  Object.assign(keyids, JSON.parse(await runReferencePython(SETUP, { cwd: root })) as Record<string, string>);
  const work = join(root, 'work');
  const honest = join(root, 'honest');
  await writeFile(join(work, 'src', 'main.c'), 'int main(void) { return 0; }\n');
  await writeFile(join(work, 'src', 'util.h'), '#define UTIL 1\n');
  await inTotoRun(work, honest, 'alice', ['-n', 'code', '-p', 'src', '-x']);
  // a copy of the work folder where the source changes after `code` recorded it
  const changedWork = join(root, 'changed-work');
  await cp(work, changedWork, { recursive: true });
  await writeFile(join(changedWork, 'src', 'main.c'), 'int main(void) { return evil(); }\n');
  for (const [dir, links] of [
    [work, honest],
    [changedWork, join(root, 'changed')],
  ] as const) {
    await inTotoRun(dir, links, 'bob', ['-n', 'build', '-m', 'src', '-p', 'hello', '--', 'sh', '-c', 'cat src/main.c > hello']);
    await inTotoRun(dir, links, 'carol', [
      '-n',
      'package',
      '-m',
      'hello',
      '-p',
      'hello.tar.gz',
      '--',
      'tar',
      'czf',
      'hello.tar.gz',
      'hello',
    ]);
  }
  await cp(join(honest, linkFile('code', 'alice')), join(root, 'changed', linkFile('code', 'alice')));
  // carol records build too (for the threshold layout) into a folder of her own
  await mkdir(join(root, 'carol-build'));
  await inTotoRun(work, join(root, 'carol-build'), 'carol', [
    '-n',
    'build',
    '-m',
    'src',
    '-p',
    'hello',
    '--',
    'sh',
    '-c',
    'cat src/main.c > hello',
  ]);
});

after(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

function linkFile(step: string, who: string): string {
  return `${step}.${keyids[who]!.slice(0, 8)}.link`;
}

/** A copy of the honest links, changed by `change`. */
async function variant(name: string, change: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, name);
  await cp(join(root, 'honest'), dir, { recursive: true });
  await change(dir);
  return dir;
}

async function agree(layoutName: string, links: string, expectPass: boolean): Promise<void> {
  const work = join(root, 'work');
  const layoutPath = join(root, layoutName);
  const ours = await verify({
    layout: JSON.parse(await readFile(layoutPath, 'utf8')) as unknown,
    layoutKeys: [await loadPublicKey(join(root, 'keys', 'owner.pub'))],
    linkDir: links,
    workDir: work,
  });
  const theirs = await runReferenceCli(
    'in-toto-verify',
    ['-l', layoutPath, '-k', join(root, 'keys', 'owner.pub'), '-t', 'ed25519', '--link-dir', links],
    { cwd: work },
  );
  assert.ok(theirs.code === 0 || theirs.code === 1, `in-toto-verify was misused (exit ${theirs.code}): ${theirs.stderr}`);
  assert.equal(
    ours.ok,
    theirs.code === 0,
    `evident said ${ours.ok ? 'PASS' : 'FAIL'}, in-toto-verify exited ${theirs.code}:\n${theirs.stderr}\n${formatReport(ours)}`,
  );
  assert.equal(ours.ok, expectPass, formatReport(ours));
}

test('reference agreement: the honest chain passes both', async (t) => {
  if (skipUnlessReference(t)) return;
  await agree('root.layout', join(root, 'honest'), true);
});

test('reference agreement: a source file changed between steps fails both', async (t) => {
  if (skipUnlessReference(t)) return;
  await agree('root.layout', join(root, 'changed'), false);
});

test('reference agreement: a link edited after signing fails both', async (t) => {
  if (skipUnlessReference(t)) return;
  const dir = await variant('edited', async (d) => {
    const file = join(d, linkFile('build', 'bob'));
    const doc = JSON.parse(await readFile(file, 'utf8')) as { signed: { products: Record<string, { sha256: string }> } };
    doc.signed.products.hello!.sha256 = '0'.repeat(64);
    await writeFile(file, JSON.stringify(doc));
  });
  await agree('root.layout', dir, false);
});

test("reference agreement: a link signed by an unauthorized key fails both (under its own name or a functionary's)", async (t) => {
  if (skipUnlessReference(t)) return;
  const own = await variant('unauthorized', async (d) => {
    await unlink(join(d, linkFile('build', 'bob')));
    await inTotoRun(join(root, 'work'), d, 'mallory', ['-n', 'build', '-m', 'src', '-p', 'hello', '-x']);
  });
  await agree('root.layout', own, false);
  const renamed = await variant('renamed', async (d) => {
    await cp(join(own, linkFile('build', 'mallory')), join(d, linkFile('build', 'bob')));
  });
  await agree('root.layout', renamed, false);
});

test('reference agreement: an expired layout fails both', async (t) => {
  if (skipUnlessReference(t)) return;
  await agree('expired.layout', join(root, 'honest'), false);
});

test('reference agreement: threshold 2 met by two functionaries, not by one of them alone or by one key twice', async (t) => {
  if (skipUnlessReference(t)) return;
  const carols = join(root, 'carol-build', linkFile('build', 'carol'));
  const both = await variant('threshold-both', (d) => cp(carols, join(d, linkFile('build', 'carol'))));
  await agree('threshold.layout', both, true);
  await agree('threshold.layout', join(root, 'honest'), false);
  const twice = await variant('threshold-twice', (d) => cp(join(d, linkFile('build', 'bob')), join(d, linkFile('build', 'carol'))));
  await agree('threshold.layout', twice, false);
});

test('reference agreement: a step delegated to a sublayout, honest and with its inner link missing', async (t) => {
  if (skipUnlessReference(t)) return;
  const delegated = await variant('delegated', async (d) => {
    await cp(join(root, 'sublayout.link'), join(d, linkFile('build', 'bob')));
    const inner = join(d, `build.${keyids.bob!.slice(0, 8)}`);
    await mkdir(inner);
    await inTotoRun(join(root, 'work'), inner, 'carol', [
      '-n',
      'compile',
      '-m',
      'src',
      '-p',
      'hello',
      '--',
      'sh',
      '-c',
      'cat src/main.c > hello',
    ]);
  });
  await agree('root.layout', delegated, true);
  const missing = await variant('delegated-missing', async (d) => {
    await cp(join(delegated, linkFile('build', 'bob')), join(d, linkFile('build', 'bob')));
  });
  await agree('root.layout', missing, false);
});

test('reference agreement: an inspection that unpacks the package passes both', async (t) => {
  if (skipUnlessReference(t)) return;
  await agree('inspect.layout', join(root, 'honest'), true);
});
