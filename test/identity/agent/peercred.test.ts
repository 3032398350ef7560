import { closeSync, openSync, readFileSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EvidentError } from '../../../src/errors.js';
import { getPeerCred, loadAddonAt, loadPeercred, socketFd } from '../../../src/identity/agent/peercred/index.js';
import { canSwitchUser, killAndWait, NOBODY, openTempDir, spawnConnector } from './helpers.js';

describe('peercred (SO_PEERCRED from the kernel)', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let server: Server;
  let socketPath: string;
  const accepted: Socket[] = [];
  const waiters: Array<(s: Socket) => void> = [];

  before(async () => {
    dir = await openTempDir('evident-peercred-');
    socketPath = join(dir.dir, 'peer.sock');
    server = createServer((s) => {
      accepted.push(s);
      const w = waiters.shift();
      if (w) w(s);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    await chmod(socketPath, 0o777);
  });

  after(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    await dir.cleanup();
  });

  function nextConnection(): Promise<Socket> {
    return new Promise((resolve) => waiters.push(resolve));
  }

  it('sees the pid, uid and gid of the process that connected', async () => {
    const conn = nextConnection();
    const child = await spawnConnector(socketPath);
    try {
      const cred = getPeerCred(await conn);
      assert.equal(cred.pid, child.pid);
      assert.equal(cred.uid, process.getuid?.());
      assert.equal(cred.gid, process.getgid?.());
    } finally {
      await killAndWait(child);
    }
  });

  it('sees another user when the child runs as nobody', async (t) => {
    if (!canSwitchUser()) return t.skip('not root: cannot spawn a child as another uid');
    const conn = nextConnection();
    const child = await spawnConnector(socketPath, { uid: NOBODY, gid: NOBODY });
    try {
      const cred = getPeerCred(await conn);
      assert.deepEqual(cred, { pid: child.pid, uid: NOBODY, gid: NOBODY });
    } finally {
      await killAndWait(child);
    }
  });

  it('gives a pidfd for the very process that connected (SO_PEERPIDFD), alive until it exits', async (t) => {
    const conn = nextConnection();
    const child = await spawnConnector(socketPath);
    const addon = loadPeercred();
    const sock = await conn;
    const pidfd = addon.getPeerPidfd(socketFd(sock));
    if (pidfd === null) {
      await killAndWait(child);
      return t.skip('kernel without SO_PEERPIDFD (Linux < 6.5)');
    }
    try {
      const pidLine = readFileSync(`/proc/self/fdinfo/${pidfd}`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('Pid:'));
      assert.equal(pidLine?.split(/\s+/)[1], String(child.pid));
      assert.equal(addon.pidfdIsAlive(pidfd), true);
      await killAndWait(child);
      assert.equal(addon.pidfdIsAlive(pidfd), false);
    } finally {
      closeSync(pidfd);
    }
  });

  it('pidfdOpen opens a pidfd for a pid', () => {
    const addon = loadPeercred();
    const pidfd = addon.pidfdOpen(process.pid);
    try {
      assert.equal(addon.pidfdIsAlive(pidfd), true);
    } finally {
      closeSync(pidfd);
    }
  });

  it('throws errno-coded errors for bad descriptors and bad arguments', () => {
    const addon = loadPeercred();
    assert.throws(
      () => addon.getPeerCred(0x7ffffff0),
      (e: NodeJS.ErrnoException) => e.code === 'EBADF',
    );
    const fd = openSync('/proc/self/stat', 'r');
    try {
      assert.throws(
        () => addon.getPeerCred(fd),
        (e: NodeJS.ErrnoException) => e.code === 'ENOTSOCK' && /SO_PEERCRED/.test(e.message),
      );
    } finally {
      closeSync(fd);
    }
    assert.throws(() => addon.getPeerCred(-1), TypeError);
    assert.throws(() => (addon.getPeerCred as (x: unknown) => unknown)('3'), TypeError);
    assert.throws(
      () => addon.pidfdOpen(0x7ffffff0),
      (e: NodeJS.ErrnoException) => e.code === 'ESRCH' || e.code === 'EINVAL',
    );
  });

  it('a missing addon is a clear ENVIRONMENT error that says how to build it', () => {
    for (const path of [undefined, join(dir.dir, 'nope', 'peercred.node')]) {
      assert.throws(
        () => loadAddonAt(path),
        (e: unknown) => e instanceof EvidentError && e.code === 'ENVIRONMENT' && /missing; build it .*node-gyp rebuild/.test(e.message),
      );
    }
  });
});
