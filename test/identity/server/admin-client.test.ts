/**
 * The admin client gives up on a server that accepts the connection and never answers (stopped with
 * SIGSTOP, wedged): the operator's command fails with a one-line ENVIRONMENT error instead of hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest } from '../../../src/identity/server/api/admin-client.js';
import { EvidentError } from '../../../src/errors.js';

test('a server that never answers fails the call after its timeout, naming the request and the socket', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-admin-'));
  const socketPath = join(dir, 'admin.sock');
  const held: Socket[] = [];
  const closed: Promise<void>[] = [];
  // reads the request and says nothing
  const silent = createServer((socket) => {
    held.push(socket);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    socket.resume();
  });
  await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
  try {
    const started = Date.now();
    await assert.rejects(
      adminRequest(socketPath, 'GET', '/v1/entries', undefined, { timeoutMs: 300 }),
      (e: unknown) =>
        e instanceof EvidentError &&
        e.code === 'ENVIRONMENT' &&
        e.message.includes('admin API did not answer GET /v1/entries within 0.3 s') &&
        e.file === socketPath,
    );
    assert.ok(Date.now() - started < 5000, 'the call waited far past its timeout');
    // the connection is closed, not left open on the server
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(
      held.every((s) => s.destroyed || s.readableEnded),
      'the client left its connection open',
    );
  } finally {
    for (const s of held) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});

test('an answer in time is returned as before', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-admin-'));
  const socketPath = join(dir, 'admin.sock');
  const server = createServer((socket) =>
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}')),
  );
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    assert.deepEqual(await adminRequest(socketPath, 'GET', '/v1/health', undefined, { timeoutMs: 2000 }), {
      status: 200,
      body: { ok: true },
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});
