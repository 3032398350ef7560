/**
 * What in-toto users type works where it has a meaning in evident: `verify -t` (accepted, said to be
 * unneeded), `sign -f FILE`, `run --use-dsse`, `-v`/`-q` on run, record, sign and verify; and the key files
 * the reference's in-toto-verify reads, as the README says.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { runReferenceCli, skipUnlessReference } from '../helpers/reference.js';

const SPEC = 'expires: 30d\nsteps: []\n';

/** A folder with an owner key pair and root.layout signed by it. */
async function project(t: TestContext, keygen: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-habits-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'spec.yaml'), SPEC);
  await writeFile(join(dir, 'file.txt'), 'x\n');
  const made = await runCli(['keygen', ...keygen, 'owner'], { cwd: dir });
  assert.equal(made.code, 0, made.stderr);
  const created = await runCli(['layout', 'create', 'spec.yaml', '-k', 'owner', '-o', 'root.layout'], { cwd: dir });
  assert.equal(created.code, 0, created.stderr);
  return dir;
}

test('verify -t TYPE… (in-toto-verify --key-types) is accepted, with a note that evident does not need it', async (t) => {
  const dir = await project(t);
  const r = await runCli(['verify', '-l', 'root.layout', '-t', 'ed25519', '-k', 'owner.pub'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, 'evident: note: -t is not needed and is ignored: evident reads each key type from its key file\n');
  assert.match(r.stdout, /PASSED/);
  const long = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--key-types', 'rsa'], { cwd: dir });
  assert.equal(long.code, 0, long.stderr);
  const bad = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '-t', 'dsa'], { cwd: dir });
  assert.equal(bad.code, 2);
});

test('verify -q prints only failed checks, -v names each stage; they exclude each other', async (t) => {
  const dir = await project(t);
  const quiet = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '-q'], { cwd: dir });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout, '');
  await runCli(['keygen', 'other'], { cwd: dir });
  const failed = await runCli(['verify', '-l', 'root.layout', '-k', 'other.pub', '-q'], { cwd: dir });
  assert.equal(failed.code, 1);
  assert.ok(
    failed.stdout.split('\n').every((l) => l === '' || l.startsWith('✗') || l.startsWith('FAILED')),
    failed.stdout,
  );
  assert.match(failed.stdout, /^✗ /);
  const both = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '-q', '-v'], { cwd: dir });
  assert.equal(both.code, 2);
  // a step with links makes verify read them: -v says so on stderr, even when it is not a terminal
  await writeFile(
    join(dir, 'spec.yaml'),
    `${SPEC.replace('steps: []', 'keys: {owner: owner.pub}\nsteps:\n  - name: code\n    functionaries: [owner]')}\n`,
  );
  assert.equal((await runCli(['layout', 'create', 'spec.yaml', '-k', 'owner', '-o', 'root.layout'], { cwd: dir })).code, 0);
  assert.equal((await runCli(['run', '-n', 'code', '-k', 'owner', '-x', '-p', 'file.txt'], { cwd: dir })).code, 0);
  const verbose = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '-v'], { cwd: dir });
  assert.equal(verbose.code, 0, verbose.stdout);
  assert.match(verbose.stderr, /^evident: verify: reading the links of code$/m);
});

test('sign -f FILE (in-toto-sign -f), and -q/-v', async (t) => {
  const dir = await project(t);
  await runCli(['keygen', 'second'], { cwd: dir });
  const r = await runCli(['sign', '-f', 'root.layout', '-k', 'owner', 'second', '-a', '-q'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const layout = JSON.parse(await readFile(join(dir, 'root.layout'), 'utf8')) as { signatures: unknown[] };
  assert.equal(layout.signatures.length, 2, "the owner's (once) and the second key's");
  const checked = await runCli(['sign', '-f', 'root.layout', '-k', 'owner.pub', 'second.pub', '--verify', '-q'], { cwd: dir });
  assert.equal(checked.code, 0, checked.stderr);
  assert.equal(checked.stdout, '');
  const verbose = await runCli(['sign', '-f', 'root.layout', '-k', 'owner', '-v'], { cwd: dir });
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stdout, /^root\.layout: signed by [0-9a-f]{64} \(owner, ed25519\)\n$/);
  const twice = await runCli(['sign', 'root.layout', '-f', 'root.layout', '-k', 'owner'], { cwd: dir });
  assert.equal(twice.code, 2);
  assert.equal(twice.stderr, 'evident: sign: give the file once: as the argument or with -f, not both\n');
});

test('run --use-dsse (in-toto-run --use-dsse) writes a DSSE envelope, as --format dsse; run -q says nothing on success', async (t) => {
  const dir = await project(t);
  const r = await runCli(['run', '-n', 'code', '-k', 'owner', '--use-dsse', '-x', '-p', 'file.txt', '-q'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const [link] = (await readdir(dir)).filter((f) => f.endsWith('.link'));
  const envelope = JSON.parse(await readFile(join(dir, link!), 'utf8')) as { payloadType?: string };
  assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
  const verbose = await runCli(['run', '-n', 'code', '-k', 'owner', '-x', '-p', 'file.txt', '-v'], { cwd: dir });
  assert.match(verbose.stderr, /^evident: recorded 0 materials and 1 product$/m);
});

test('README: which evident keygen output the reference in-toto-verify -k reads, and with which -t', async (t) => {
  if (skipUnlessReference(t)) return;
  const cases: { keygen: string[]; referenceArgs: string[]; reads: boolean }[] = [
    { keygen: ['-t', 'rsa'], referenceArgs: [], reads: true },
    { keygen: ['--format', 'securesystemslib'], referenceArgs: ['-t', 'ed25519'], reads: true },
    { keygen: ['-t', 'ecdsa', '--format', 'securesystemslib'], referenceArgs: ['-t', 'ecdsa'], reads: true },
    // evident's default, ed25519 in PEM: the reference reads ed25519 keys only as securesystemslib JSON
    { keygen: [], referenceArgs: ['-t', 'ed25519'], reads: false },
    { keygen: [], referenceArgs: [], reads: false },
    { keygen: ['-t', 'ecdsa'], referenceArgs: ['-t', 'ecdsa'], reads: false },
  ];
  for (const c of cases) {
    const dir = await project(t, c.keygen);
    const r = await runReferenceCli('in-toto-verify', ['-l', 'root.layout', '-k', 'owner.pub', ...c.referenceArgs], { cwd: dir });
    const what = `evident keygen ${c.keygen.join(' ')} / in-toto-verify -k owner.pub ${c.referenceArgs.join(' ')}`;
    assert.equal(r.code === 0, c.reads, `${what}: exit ${r.code}\n${r.stderr}`);
  }
});
