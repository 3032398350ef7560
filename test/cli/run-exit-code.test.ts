/**
 * `evident run` fails when its step fails: the link (the evidence) is written, then the command's own exit
 * code is returned, so `set -e` and CI stop there (in-toto-run exits 0; --ignore-exit-code does that).
 * A -m or -p path that does not exist is refused (exit 2) unless --allow-missing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, saveKeyPair } from '../../src/crypto/key-files.js';
import type { Link, Metablock } from '../../src/intoto/models/types.js';
import { runCli } from '../helpers/cli.js';

async function project(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-run-exit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'main.c'), 'int main(void) { return 0; }\n');
  await saveKeyPair(generatePrivateKey('ed25519'), join(dir, 'key'));
  return dir;
}

async function links(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.link') || f.endsWith('.tmp'));
}

async function onlyLink(dir: string): Promise<Link> {
  const found = await links(dir);
  assert.equal(found.length, 1, `one link expected, found ${found.join(', ')}`);
  return (JSON.parse(await readFile(join(dir, found[0]!), 'utf8')) as Metablock<Link>).signed;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

test('a failed command: the link is written, then evident run exits with the command’s own code', async (t) => {
  const dir = await project(t);
  const r = await runCli(['run', '-n', 'build', '-k', 'key', '-m', 'main.c', '--', 'sh', '-c', 'exit 3'], { cwd: dir });
  assert.equal(r.code, 3, r.stderr);
  assert.equal((await onlyLink(dir)).byproducts['return-value'], 3);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /^evident: wrote build\.[0-9a-f]{8}\.link$/);
  assert.equal(lines[1], 'evident: build: the command exited with 3; the link records the failure, and evident exits with 3');
  // the failure is an error, not chatter: -q does not hide it
  const quiet = await runCli(['run', '-n', 'build', '-k', 'key', '-q', '--', 'false'], { cwd: dir });
  assert.equal(quiet.code, 1);
  assert.equal(quiet.stderr, 'evident: build: the command exited with 1; the link records the failure, and evident exits with 1\n');
});

test('a command killed by a signal: exit 128 + its number, as a shell reports it', async (t) => {
  const dir = await project(t);
  const r = await runCli(['run', '-n', 'build', '-k', 'key', '--', 'sh', '-c', 'kill -9 $$'], { cwd: dir });
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, /the command was killed by signal 9 \(SIGKILL\)/);
  assert.equal((await onlyLink(dir)).byproducts['return-value'], -9);
});

test('--ignore-exit-code keeps in-toto-run’s behaviour: exit 0, the exit code only in the link', async (t) => {
  const dir = await project(t);
  const r = await runCli(['run', '-n', 'build', '-k', 'key', '--ignore-exit-code', '--', 'sh', '-c', 'exit 3'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: the command exited with 3; recorded in the link's byproducts/);
  assert.equal((await onlyLink(dir)).byproducts['return-value'], 3);
});

test('a missing material: exit 2, one line naming it, the command not run, no link', async (t) => {
  const dir = await project(t);
  const r = await runCli(['run', '-n', 'build', '-k', 'key', '-m', 'main.c', 'mian.c', '--', 'touch', 'ran'], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr,
    'evident: mian.c: this material does not exist: the command was not run, no link written; --allow-missing records the step without it\n',
  );
  assert.equal(await exists(join(dir, 'ran')), false, 'the command did not run');
  assert.deepEqual(await links(dir), []);
});

test('a missing product after a command that succeeded: exit 2, one line naming it, no link', async (t) => {
  const dir = await project(t);
  const r = await runCli(['run', '-n', 'build', '-k', 'key', '-p', 'hello', 'hello.map', '--', 'true'], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr,
    'evident: hello: this product does not exist (and hello.map): the command succeeded without making it, no link written; --allow-missing records the step without it\n',
  );
  assert.deepEqual(await links(dir), []);
  // a signed-off step with no command: the same
  const signOff = await runCli(['run', '-n', 'code', '-k', 'key', '-x', '-p', 'main.c', 'README'], { cwd: dir });
  assert.equal(signOff.code, 2);
  assert.match(signOff.stderr, /^evident: README: this product does not exist: no link written; --allow-missing/);
  assert.deepEqual(await links(dir), []);
});

test('a failed command that made no product: its link is still written (the evidence), with the command’s exit code', async (t) => {
  const dir = await project(t);
  const r = await runCli(['run', '-n', 'build', '-k', 'key', '-m', 'main.c', '-p', 'hello', '--', 'sh', '-c', 'exit 1'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /warning: hello: does not exist, skipping/);
  const link = await onlyLink(dir);
  assert.deepEqual(link.products, {});
  assert.deepEqual(Object.keys(link.materials), ['main.c']);
});

test('--allow-missing records the step without the missing paths, as in-toto-run does', async (t) => {
  const dir = await project(t);
  const r = await runCli(['run', '-n', 'build', '-k', 'key', '--allow-missing', '-m', 'nope', '-p', 'main.c', 'gone', '--', 'true'], {
    cwd: dir,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: nope: does not exist, skipping/);
  assert.match(r.stderr, /warning: gone: does not exist, skipping/);
  const link = await onlyLink(dir);
  assert.deepEqual(link.materials, {});
  assert.deepEqual(Object.keys(link.products), ['main.c']);
});

test('record start and stop refuse a missing path too (exit 2, nothing lost), and take --allow-missing', async (t) => {
  const dir = await project(t);
  const start = await runCli(['record', 'start', '-n', 'edit', '-k', 'key', '-m', 'mian.c'], { cwd: dir });
  assert.equal(start.code, 2, start.stderr);
  assert.equal(
    start.stderr,
    'evident: mian.c: this material does not exist: no preliminary link written; --allow-missing records the step without it\n',
  );
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith('.link-unfinished')),
    [],
  );

  assert.equal((await runCli(['record', 'start', '-n', 'edit', '-k', 'key', '-m', 'main.c'], { cwd: dir })).code, 0);
  const stop = await runCli(['record', 'stop', '-n', 'edit', '-k', 'key', '-p', 'main.o'], { cwd: dir });
  assert.equal(stop.code, 2, stop.stderr);
  assert.match(
    stop.stderr,
    /^evident: main\.o: this product does not exist: no link written, the preliminary link is kept; --allow-missing/,
  );
  assert.deepEqual(await links(dir), []);
  assert.equal((await readdir(dir)).filter((f) => f.endsWith('.link-unfinished')).length, 1, 'the preliminary link survives the refusal');

  const retry = await runCli(['record', 'stop', '-n', 'edit', '-k', 'key', '--allow-missing', '-p', 'main.c', 'main.o'], { cwd: dir });
  assert.equal(retry.code, 0, retry.stderr);
  const link = await onlyLink(dir);
  assert.deepEqual(Object.keys(link.materials), ['main.c']);
  assert.deepEqual(Object.keys(link.products), ['main.c']);
});
