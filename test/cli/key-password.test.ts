/**
 * Passwords of encrypted keys as operators expect: asked on a terminal without echo, from
 * EVIDENT_KEY_PASSWORD or --password-file; never a flag taken for the password (`-P -x`).
 * The terminal cases run bin/evident (and so dist/) on a real pseudo-terminal, driven by Python's pty.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from '../helpers/child-process.js';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePrivateKey, loadPrivateKey, saveKeyPair } from '../../src/crypto/key-files.js';
import type { PrivateKey } from '../../src/crypto/keys.js';
import { runCli } from '../helpers/cli.js';

const BIN = fileURLToPath(new URL('../../bin/evident', import.meta.url));
const PASSWORD = 'correct horse';

interface Project {
  dir: string;
  key: PrivateKey;
}

/** A folder with `enc` (a key encrypted with PASSWORD), `plain` (unencrypted), a layout spec and a file. */
async function project(t: TestContext): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-password-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = generatePrivateKey('ecdsa');
  await saveKeyPair(key, join(dir, 'enc'), { password: PASSWORD });
  await saveKeyPair(generatePrivateKey('ed25519'), join(dir, 'plain'));
  await writeFile(join(dir, 'file.txt'), 'x\n');
  await writeFile(join(dir, 'spec.yaml'), 'expires: 30d\nsteps: []\n');
  return { dir, key };
}

const linksIn = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.link'));

test('-P followed by a flag never takes the flag for the password', async (t) => {
  const { dir } = await project(t);
  // in-toto-run -P -x prompts and then reads -x as -x; without a terminal there is nobody to ask: refused
  const r = await runCli(['run', '-n', 'code', '-k', 'plain', '-P', '-x', '-p', 'file.txt'], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr,
    'evident: -P asks for the password on the terminal, but stdin is not one: give it with --password-file FILE or EVIDENT_KEY_PASSWORD\n',
  );
  // a value that starts with '-' attached to the flag is refused too, without showing it
  for (const argv of [['--password=-x'], ['-P-x']]) {
    const attached = await runCli(['run', '-n', 'code', '-k', 'plain', ...argv, '-x', '-p', 'file.txt'], { cwd: dir });
    assert.equal(attached.code, 2, `${argv.join(' ')}: ${attached.stderr}`);
    assert.match(attached.stderr, /^evident: -P\/--password was given a value starting with '-', which looks like a flag: .*\n$/);
    assert.doesNotMatch(attached.stderr, /-x/);
  }
  assert.deepEqual(await linksIn(dir), []);
});

test('EVIDENT_KEY_PASSWORD and --password-file decrypt the key, for run, record, sign and layout create', async (t) => {
  const { dir, key } = await project(t);
  await writeFile(join(dir, 'pw'), `${PASSWORD}\n`);
  const env = { EVIDENT_KEY_PASSWORD: PASSWORD };
  const commands: string[][] = [
    ['run', '-n', 'code', '-k', 'enc', '-x', '-p', 'file.txt'],
    ['record', 'start', '-n', 'edit', '-k', 'enc', '-m', 'file.txt'],
    ['layout', 'create', 'spec.yaml', '-k', 'enc', '-o', 'root.layout'],
  ];
  for (const argv of commands) {
    const fromEnv = await runCli(argv, { cwd: dir, env });
    assert.equal(fromEnv.code, 0, `${argv.join(' ')} with EVIDENT_KEY_PASSWORD: ${fromEnv.stderr}`);
    const fromFile = await runCli([...argv, '--password-file', 'pw'], { cwd: dir });
    assert.equal(fromFile.code, 0, `${argv.join(' ')} --password-file: ${fromFile.stderr}`);
  }
  const sign = await runCli(['sign', '-f', 'root.layout', '-k', 'enc', '--password-file', 'pw'], { cwd: dir });
  assert.equal(sign.code, 0, sign.stderr);
  assert.match(sign.stdout, new RegExp(`signed by ${key.keyid.slice(0, 8)}`));
  assert.deepEqual(await linksIn(dir), [`code.${key.keyid.slice(0, 8)}.link`]);
});

test('an encrypted key and no password, no terminal: one line saying how to give it; a wrong one names its source', async (t) => {
  const { dir } = await project(t);
  const r = await runCli(['run', '-n', 'code', '-k', 'enc', '-x', '-p', 'file.txt'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'evident: enc: this key is encrypted: give its password with --password-file FILE or EVIDENT_KEY_PASSWORD (on a terminal, -P asks for it)\n',
  );
  const wrong = await runCli(['run', '-n', 'code', '-k', 'enc', '-x', '-p', 'file.txt'], {
    cwd: dir,
    env: { EVIDENT_KEY_PASSWORD: 'nope' },
  });
  assert.equal(wrong.code, 2);
  assert.equal(wrong.stderr, 'evident: enc: wrong password for this encrypted key (the password from EVIDENT_KEY_PASSWORD)\n');
  await writeFile(join(dir, 'empty'), '\n');
  const empty = await runCli(['run', '-n', 'code', '-k', 'enc', '-x', '-p', 'file.txt', '--password-file', 'empty'], { cwd: dir });
  assert.equal(empty.code, 2);
  assert.equal(empty.stderr, 'evident: empty: the password file is empty\n');
  const both = await runCli(['sign', '-f', 'x', '-k', 'enc', '--password', PASSWORD, '--password-file', 'empty'], { cwd: dir });
  assert.equal(both.code, 2);
  assert.equal(both.stderr, "evident: give the key's password one way, not with --password and --password-file\n");
  assert.deepEqual(await linksIn(dir), []);
});

test('keygen encrypts with the password from EVIDENT_KEY_PASSWORD or --password-file, and says so', async (t) => {
  const { dir } = await project(t);
  await writeFile(join(dir, 'pw'), 'from a file\n');
  const fromEnv = await runCli(['keygen', 'k1'], { cwd: dir, env: { EVIDENT_KEY_PASSWORD: PASSWORD } });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.match(fromEnv.stdout, /: k1 \(encrypted, password from EVIDENT_KEY_PASSWORD\), k1\.pub\n$/);
  await assert.rejects(loadPrivateKey(join(dir, 'k1')), /encrypted/);
  await loadPrivateKey(join(dir, 'k1'), { password: PASSWORD });
  const fromFile = await runCli(['keygen', 'k2', '--password-file', 'pw'], { cwd: dir });
  assert.equal(fromFile.code, 0, fromFile.stderr);
  await loadPrivateKey(join(dir, 'k2'), { password: 'from a file' });
  const json = await runCli(['keygen', 'k3', '--format', 'securesystemslib'], { cwd: dir, env: { EVIDENT_KEY_PASSWORD: PASSWORD } });
  assert.equal(json.code, 2);
  assert.match(json.stderr, /^evident: keygen: securesystemslib JSON keys are written unencrypted, and a password was given/);
});

/** What a user sees on a terminal: runs bin/evident on a pseudo-terminal, typing each answer at each prompt. */
async function onTerminal(cwd: string, args: string[], answers: string[], then = ''): Promise<{ code: number; screen: string }> {
  const driver = String.raw`
import json, os, pty, re, select, sys, time
argv, answers, then = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
screen, sent, deadline = b'', 0, time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        screen += data
    prompts = len(re.findall(rb'(?:Password for [^\r\n]*?|The same password again): ', screen))
    if sent < len(answers) and prompts > sent:
        os.write(fd, answers[sent].encode() + b'\r')
        sent += 1
        if sent == len(answers) and then:
            time.sleep(0.3)
            os.write(fd, then.encode() + b'\r')
_, status = os.waitpid(pid, 0)
print(json.dumps({'code': os.waitstatus_to_exitcode(status), 'screen': screen.decode('utf8', 'replace')}))
`;
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
    execFile(
      '/usr/bin/python3',
      ['-c', driver, JSON.stringify([process.execPath, BIN, ...args]), JSON.stringify(answers), then],
      { cwd, env: { ...process.env, EVIDENT_KEY_PASSWORD: '' } },
      (e, out) => (e ? reject(e) : resolve({ stdout: out })),
    ),
  );
  return JSON.parse(stdout) as { code: number; screen: string };
}

test('on a terminal: an encrypted key’s password is asked for without echo, and the command still reads the terminal', async (t) => {
  const { dir, key } = await project(t);
  const r = await onTerminal(
    dir,
    ['run', '-n', 'build', '-k', 'enc', '-s', '-p', 'out.txt', '--', 'sh', '-c', 'read line; echo "got $line" > out.txt'],
    [PASSWORD],
    'typed to the command',
  );
  assert.equal(r.code, 0, r.screen);
  assert.match(r.screen, /^Password for enc: /);
  assert.ok(!r.screen.includes(PASSWORD), `the password was echoed:\n${r.screen}`);
  assert.equal(await readFile(join(dir, 'out.txt'), 'utf8'), 'got typed to the command\n');
  assert.deepEqual(await linksIn(dir), [`build.${key.keyid.slice(0, 8)}.link`]);
  // an unencrypted key asks nothing, even on a terminal
  const plain = await onTerminal(dir, ['run', '-n', 'code', '-k', 'plain', '-x', '-p', 'file.txt'], []);
  assert.equal(plain.code, 0, plain.screen);
  assert.doesNotMatch(plain.screen, /assword/);
});

test('on a terminal: sign -p and layout create -P ask; keygen -P asks twice and refuses two different answers', async (t) => {
  const { dir } = await project(t);
  const layout = await onTerminal(dir, ['layout', 'create', 'spec.yaml', '-k', 'enc', '-P', '-o', 'root.layout'], [PASSWORD]);
  assert.equal(layout.code, 0, layout.screen);
  const sign = await onTerminal(dir, ['sign', '-f', 'root.layout', '-k', 'enc', '-p'], ['wrong']);
  assert.equal(sign.code, 2, sign.screen);
  assert.match(sign.screen, /evident: enc: wrong password for this encrypted key/);
  const differ = await onTerminal(dir, ['keygen', 'new', '-P'], ['one', 'two']);
  assert.equal(differ.code, 2, differ.screen);
  assert.match(differ.screen, /Password for the new key: \r?\nThe same password again: \r?\nevident: the two passwords differ/);
  const made = await onTerminal(dir, ['keygen', 'new', '-P'], ['s3cret!', 's3cret!']);
  assert.equal(made.code, 0, made.screen);
  assert.ok(!made.screen.includes('s3cret!'), made.screen);
  await loadPrivateKey(join(dir, 'new'), { password: 's3cret!' });
});
