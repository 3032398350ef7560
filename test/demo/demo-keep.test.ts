// `evident demo --keep`, as a user runs it: the built CLI, a real Ctrl-C (SIGINT), real ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from '../helpers/child-process.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBuilt, REPO_ROOT } from '../helpers/evident-process.js';
import { answers, processesMentioning } from './processes.js';

test('evident demo --keep: the store serves the verified image until Ctrl-C, then everything stops', { timeout: 420_000 }, async (t) => {
  ensureBuilt();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'evident'), 'demo', '--keep'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const workdir = () => /^evident demo: the Hello World supply chain, in (\S+)$/m.exec(stdout)?.[1];
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const dir = workdir();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  // the demo runs to its end, then holds
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 'press Ctrl-C to stop' within 360 s:\n${stdout}\n${stderr}`)), 360_000);
    const check = () => {
      if (/^press Ctrl-C to stop$/m.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code}) before holding:\n${stdout}\n${stderr}`));
    });
  });
  const page = /^the evidence store keeps serving the verified image: (http:\/\/127\.0\.0\.1:\d+\/artifacts\/sha256:[0-9a-f]{64})$/m.exec(
    stdout,
  );
  assert.ok(page, stdout);
  assert.ok(
    stdout.includes(`✓ the store's page for the verified image, its chain drawn with the layout's verdict: ${page[1]}\n`),
    'the same URL as printed after the verification',
  );
  assert.doesNotMatch(stdout, /the store stops when the demo ends/);
  const storeUrl = new URL(page[1]!).origin;
  const health = await fetch(`${storeUrl}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  // the kept store is the honest pipeline's: its build link is there
  const builds = (await (await fetch(`${storeUrl}/v1/evidence?step=build`)).json()) as { items: unknown[] };
  assert.equal(builds.items.length, 1);
  const dir = workdir();
  assert.ok(dir, stdout);
  assert.notDeepEqual(await processesMentioning(dir), [], 'the store and the identity plane run while held');

  child.kill('SIGINT');
  assert.equal(await exit, 0, stderr);
  assert.equal(await answers(`${storeUrl}/healthz`), false, "the store's port is closed");
  assert.deepEqual(await processesMentioning(dir), [], 'nothing the demo started is left running');
  assert.ok(stderr.includes(`evident: kept ${dir}`), stderr);
});
