/**
 * The demo's identity plane says when a server or agent it started dies after it was ready, naming it,
 * instead of leaving the next step to fail on a missing Workload API socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityPlane } from '../../src/demo/identity-plane.js';
import { EvidentError } from '../../src/errors.js';
import { processesMentioning } from './processes.js';

test('an agent killed after it was ready is reported at once, and using its runner then fails naming it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-plane-'));
  const heard: string[] = [];
  let onHeard: () => void = () => {};
  const plane = new IdentityPlane(join(dir, 'identity'), {
    onExit: (line) => {
      heard.push(line);
      onHeard();
    },
  });
  try {
    await plane.start(['build-runner', 'scan-runner']);
    assert.match(plane.socketUri('build-runner'), /^unix:\/\//);
    const agent = (await processesMentioning(join(dir, 'identity', 'runners', 'build-runner'))).find((p) => p.includes(' agent run '));
    assert.ok(agent, 'the build-runner agent process was not found');
    const reported = new Promise<void>((resolve) => (onHeard = resolve));
    process.kill(Number(agent.split(':')[0]), 'SIGKILL');
    await reported;
    assert.deepEqual(heard, ['✗ the build-runner agent (evident agent run) exited (SIGKILL) after it was ready: it logged nothing']);
    assert.throws(
      () => plane.socketUri('scan-runner'),
      (e: unknown) =>
        e instanceof EvidentError && e.code === 'ENVIRONMENT' && /the build-runner agent .* exited \(SIGKILL\)/.test(e.message),
    );
  } finally {
    await plane.stop();
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(heard.length, 1, 'stopping the plane is not an unexpected exit');
});
