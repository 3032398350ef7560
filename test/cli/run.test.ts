import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, saveKeyPair, loadPublicKey } from '../../src/crypto/key-files.js';
import { canonicalJson } from '../../src/crypto/canonical-json.js';
import { verifyEnvelope, parseEnvelope, envelopePayload } from '../../src/crypto/dsse.js';
import type { KeyType } from '../../src/crypto/key-dict.js';
import type { Link, Metablock } from '../../src/intoto/models/types.js';
import { runCli } from '../helpers/cli.js';
import { runReferenceCli, runReferencePython, skipUnlessReference } from '../helpers/reference.js';

let root: string;
const startDir = process.cwd();

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'evident-run-'));
});
after(async () => {
  process.chdir(startDir);
  await rm(root, { recursive: true, force: true });
});

/** A fresh project folder with a source file, made the working folder (artifact names are relative to it). */
async function project(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'src', 'main.c'), 'int main(void) { return 0; }\n');
  process.chdir(dir);
  return dir;
}

async function key(dir: string, type: KeyType = 'ed25519', format: 'pem' | 'securesystemslib' = 'pem'): Promise<string> {
  const path = join(dir, `key-${type}`);
  await saveKeyPair(generatePrivateKey(type), path, { format });
  return path;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function readLink(path: string): Promise<Metablock<Link>> {
  return JSON.parse(await readFile(path, 'utf8')) as Metablock<Link>;
}

test('run records materials, runs the command, records products, and signs <step>.<keyid8>.link', async () => {
  const dir = await project('basic');
  const k = await key(dir);
  const pub = await loadPublicKey(`${k}.pub`);
  const r = await runCli([
    'run',
    '-n',
    'build',
    '-k',
    k,
    '-m',
    'src',
    '-p',
    'out.txt',
    '-s',
    '--',
    'sh',
    '-c',
    'echo built > out.txt; echo to-stdout; echo to-stderr >&2',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const file = join(dir, `build.${pub.keyid.slice(0, 8)}.link`);
  const mb = await readLink(file);
  assert.equal(mb.signed.name, 'build');
  assert.deepEqual(mb.signed.command, ['sh', '-c', 'echo built > out.txt; echo to-stdout; echo to-stderr >&2']);
  assert.deepEqual(mb.signed.materials, { 'src/main.c': { sha256: sha256('int main(void) { return 0; }\n') } });
  assert.deepEqual(mb.signed.products, { 'out.txt': { sha256: sha256('built\n') } });
  assert.deepEqual(mb.signed.byproducts, { 'return-value': 0, stdout: 'to-stdout\n', stderr: 'to-stderr\n' });
  assert.equal(mb.signatures.length, 1);
  assert.equal(mb.signatures[0]!.keyid, pub.keyid);
  assert.ok(pub.verify(Buffer.from(canonicalJson(mb.signed)), mb.signatures[0]!.sig!));
});

test("run records a failing command's exit code, still writes the link, and exits with that code", async () => {
  const dir = await project('failing');
  const k = await key(dir, 'ecdsa');
  const r = await runCli(['run', '-n', 'test', '-k', k, '-d', dir, '--', 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /the command exited with 3/);
  const [file] = (await readdir(dir)).filter((f) => f.endsWith('.link'));
  assert.equal((await readLink(join(dir, file!))).signed.byproducts['return-value'], 3);
});

test('run --format dsse writes an in-toto Statement in a DSSE envelope', async () => {
  const dir = await project('dsse');
  const k = await key(dir);
  const pub = await loadPublicKey(`${k}.pub`);
  const r = await runCli(['run', '-n', 'code', '-k', k, '-x', '-p', 'src', '--format', 'dsse']);
  assert.equal(r.code, 0, r.stderr);
  const env = parseEnvelope(JSON.parse(await readFile(join(dir, `code.${pub.keyid.slice(0, 8)}.link`), 'utf8')));
  assert.equal(env.payloadType, 'application/vnd.in-toto+json');
  assert.deepEqual(
    verifyEnvelope(env, [pub]).map((p) => p.keyid),
    [pub.keyid],
  );
  const statement = JSON.parse(envelopePayload(env).toString()) as { predicateType: string; subject: unknown[] };
  assert.equal(statement.predicateType, 'https://in-toto.io/attestation/link/v0.3');
  assert.deepEqual(statement.subject, [{ name: 'src/main.c', digest: { sha256: sha256('int main(void) { return 0; }\n') } }]);
});

test('record start and stop make one link and remove the preliminary one', async () => {
  const dir = await project('record');
  const k = await key(dir, 'rsa');
  const pub = await loadPublicKey(`${k}.pub`);
  assert.equal((await runCli(['record', 'start', '-n', 'edit', '-k', k, '-m', 'src'])).code, 0);
  const unfinished = `.edit.${pub.keyid.slice(0, 8)}.link-unfinished`;
  assert.ok((await readdir(dir)).includes(unfinished));
  await writeFile(join(dir, 'src', 'main.c'), 'int main(void) { return 1; }\n');
  const stop = await runCli(['record', 'stop', '-n', 'edit', '-k', k, '-p', 'src']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.ok(!(await readdir(dir)).includes(unfinished));
  const mb = await readLink(join(dir, `edit.${pub.keyid.slice(0, 8)}.link`));
  assert.equal(mb.signed.materials['src/main.c']!.sha256, sha256('int main(void) { return 0; }\n'));
  assert.equal(mb.signed.products['src/main.c']!.sha256, sha256('int main(void) { return 1; }\n'));
  assert.ok(pub.verify(Buffer.from(canonicalJson(mb.signed)), mb.signatures[0]!.sig!));
});

test('record stop refuses a missing or altered preliminary link', async () => {
  const dir = await project('record-bad');
  const k = await key(dir);
  const pub = await loadPublicKey(`${k}.pub`);
  const missing = await runCli(['record', 'stop', '-n', 'edit', '-k', k, '-p', 'src']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^evident: \.edit\.[0-9a-f]{8}\.link-unfinished: no preliminary link for step 'edit'/);
  await runCli(['record', 'start', '-n', 'edit', '-k', k, '-m', 'src']);
  const unfinished = join(dir, `.edit.${pub.keyid.slice(0, 8)}.link-unfinished`);
  const mb = await readLink(unfinished);
  mb.signed.materials['src/main.c'] = { sha256: '0'.repeat(64) };
  await writeFile(unfinished, JSON.stringify(mb));
  const altered = await runCli(['record', 'stop', '-n', 'edit', '-k', k, '-p', 'src']);
  assert.equal(altered.code, 1);
  assert.match(altered.stderr, /changed after record start/);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith('.link')),
    [],
  );
});

test('bad input: exit 2, one line naming the problem, no link left behind', async () => {
  const dir = await project('bad');
  const k = await key(dir);
  const cases: [string[], RegExp][] = [
    [['run', '-n', 'x', '-k', join(dir, 'nope'), '--', 'true'], /^evident: .*nope: no such file or directory\n$/],
    [['run', '-n', 'a/b', '-k', k, '--', 'true'], /^evident: step name: 'a\/b' must not contain '\/'/],
    [['run', '-n', '..', '-k', k, '--', 'true'], /^evident: step name: '\.\.' is not a usable name/],
    [['run', '-n', 'x', '-k', k, '-x', '--', 'true'], /cannot be combined with a command/],
    [['run', '-n', 'x', '-k', k], /give the command after --/],
    [['run', '-n', 'x', '--', 'true'], /a signing identity is needed: -k KEY, or --spiffe-socket/],
    [['run', '-n', 'x', '-k', `${k}.pub`, '--', 'true'], /this is a public key; signing needs the private key/],
    [['run', '-n', 'x', '-k', k, '-t', 'rsa', '--', 'true'], /--key-type rsa given, but the key is ed25519/],
    [['run', '-n', 'x', '-k', k, '-d', join(dir, 'no-such-dir'), '--', 'true'], /no-such-dir.*no such file or directory/],
  ];
  for (const [argv, message] of cases) {
    const r = await runCli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, argv.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.includes('.link') || f.endsWith('.tmp')),
    [],
  );
});

for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
  test(`interop (${type}): the reference accepts evident's link and records the same artifacts`, async (t) => {
    if (skipUnlessReference(t)) return;
    const dir = await project(`interop-${type}`);
    await writeFile(join(dir, 'src', 'naïve "quoted" file.txt'), 'ünïcode\r\n');
    const k = await key(dir, type, type === 'rsa' ? 'pem' : 'securesystemslib');
    const ours = join(dir, 'ours');
    const theirs = join(dir, 'theirs');
    await mkdir(ours);
    await mkdir(theirs);
    const cmd = ['sh', '-c', 'cp src/main.c out.c'];
    const r = await runCli(['run', '-n', 'build', '-k', k, '-m', 'src', '-p', 'out.c', '-s', '-d', ours, '--', ...cmd]);
    assert.equal(r.code, 0, r.stderr);
    const ref = await runReferenceCli(
      'in-toto-run',
      ['-n', 'build', '-k', k, '-t', type, '-m', 'src', '-p', 'out.c', '-s', '-d', theirs, '--', ...cmd],
      { cwd: dir },
    );
    assert.equal(ref.code, 0, ref.stderr);
    const [ourFile] = await readdir(ours);
    const [theirFile] = await readdir(theirs);
    assert.equal(ourFile, theirFile, 'same file name, so the same keyid');
    const ourLink = await readLink(join(ours, ourFile!));
    const theirLink = await readLink(join(theirs, theirFile!));
    assert.deepEqual(ourLink.signed, theirLink.signed, 'the signed part is identical');
    if (type === 'ed25519') {
      // ed25519 signatures are deterministic, so the whole file must be the reference's, byte for byte
      assert.equal(await readFile(join(ours, ourFile!), 'utf8'), await readFile(join(theirs, theirFile!), 'utf8'));
    }
    // the reference verifies evident's signature with the public key
    const loader = type === 'rsa' ? 'import_rsa_publickey_from_file' : `import_${type}_publickey_from_file`;
    const verdict = await runReferencePython(`
from in_toto.models.metadata import Metablock
from securesystemslib import interface
Metablock.load(${JSON.stringify(join(ours, ourFile!))}).verify_signature(interface.${loader}(${JSON.stringify(`${k}.pub`)}))
print("ok")
`);
    assert.equal(verdict.trim(), 'ok');
  });
}

test('run and record work in the folder they are given, not the process working folder', async () => {
  const dir = await project('elsewhere');
  process.chdir(root); // the process is elsewhere; the CLI is told the project folder
  const k = await key(dir);
  const pub = await loadPublicKey(`${k}.pub`);
  const r = await runCli(['run', '-n', 'build', '-k', k, '-m', 'src', '-p', 'out.txt', '--', 'sh', '-c', 'echo x > out.txt'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`evident: wrote build\\.${pub.keyid.slice(0, 8)}\\.link`));
  const mb = await readLink(join(dir, `build.${pub.keyid.slice(0, 8)}.link`));
  assert.deepEqual(Object.keys(mb.signed.materials), ['src/main.c']);
  assert.deepEqual(mb.signed.products, { 'out.txt': { sha256: sha256('x\n') } });
  assert.equal((await runCli(['record', 'start', '-n', 'edit', '-k', k, '-m', 'src'], { cwd: dir })).code, 0);
  assert.equal((await runCli(['record', 'stop', '-n', 'edit', '-k', k, '-p', 'src'], { cwd: dir })).code, 0);
  assert.ok((await readdir(dir)).includes(`edit.${pub.keyid.slice(0, 8)}.link`));
  assert.deepEqual(
    (await readdir(root)).filter((f) => f.includes('.link')),
    [],
  );
});

test('run: a relative key path is relative to the folder the CLI runs in, and errors name it as given', async () => {
  const dir = join(root, 'relative-key');
  await mkdir(join(dir, 'keys'), { recursive: true });
  await saveKeyPair(generatePrivateKey('ed25519'), join(dir, 'keys', 'dev'));
  process.chdir(root); // not the folder the CLI is told to run in
  const r = await runCli(['run', '-n', 'step', '-k', 'keys/dev', '-x', '-p', 'keys/dev.pub'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const missing = await runCli(['run', '-n', 'step', '-k', 'keys/none', '-x', '-p', 'keys'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^evident: keys\/none: /);
});
