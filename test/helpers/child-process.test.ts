// The suite's own safety net (issue 20): children of a test process die with it, and synchronous children
// have a deadline that fails with what they printed.
import assert from 'node:assert/strict';
import { spawn as nodeSpawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { execFile, execFileSync, spawnSync } from './child-process.js';
import { REPO_ROOT } from './evident-process.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a synchronous child past its deadline is killed, and the error names the command and what it printed', () => {
  const t0 = Date.now();
  assert.throws(
    () => execFileSync('sh', ['-c', 'echo started; echo warming up >&2; sleep 30'], { timeout: 500, stdio: 'pipe' }),
    (e: Error) =>
      /^sh -c .*: still running after 0\.5 s, killed/.test(e.message) && /started/.test(e.message) && /warming up/.test(e.message),
  );
  assert.throws(
    () => spawnSync('sh', ['-c', 'echo half-way; sleep 30'], { timeout: 500 }),
    (e: Error) => /still running after 0\.5 s/.test(e.message) && /half-way/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 20_000, 'neither waited for its sleep');
  // a child that ends in time is node's own result, failures included
  assert.equal(spawnSync('sh', ['-c', 'exit 3']).status, 3);
  assert.throws(
    () => execFileSync('sh', ['-c', 'exit 4'], { stdio: 'ignore' }),
    (e: { status?: number }) => e.status === 4,
  );
});

test('promisify(execFile) keeps its { stdout, stderr } and gets the deadline too', async () => {
  const run = promisify(execFile);
  assert.deepEqual(await run('sh', ['-c', 'echo out; echo err >&2']), { stdout: 'out\n', stderr: 'err\n' });
  await assert.rejects(run('sh', ['-c', 'echo partial >&2; sleep 30'], { timeout: 500 }), (e: Error & { killed?: boolean }) => {
    assert.equal(e.killed, true);
    assert.match(e.message, /partial/);
    return true;
  });
});

test('the children of a test process that is stopped (as node --test stops a file past its timeout) are killed with it', async () => {
  // a test process of its own: it starts a long child through the helpers, says its pid, and waits
  const script = [
    `import { spawn } from ${JSON.stringify(join(REPO_ROOT, 'test', 'helpers', 'child-process.ts'))};`,
    `const child = spawn('sleep', ['300'], { stdio: 'ignore' });`,
    `process.stdout.write(String(child.pid) + '\\n');`,
    `setInterval(() => {}, 1000);`,
  ].join('\n');
  const parent = nodeSpawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  parent.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no pid from the test process within 60 s: ${err}`)), 60_000);
    parent.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(Number(out.trim()));
      }
    });
    parent.once('exit', (code) => reject(new Error(`the test process exited (${code}): ${err}`)));
  });
  assert.ok(alive(pid));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => parent.once('exit', (_code, signal) => resolve(signal)));
  parent.kill('SIGTERM');
  assert.equal(await exited, 'SIGTERM', 'it still ends as SIGTERM ends it');
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  // killed, it is at most a zombie of a parent that is gone (init reaps it): not running
  const state = alive(pid) ? (await import('node:fs')).readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
  assert.ok(state === 'gone' || state === 'Z', `the child ${pid} still runs (state ${state})`);
});
