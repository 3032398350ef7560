/**
 * `unix:path` used to be read from /proc/PID/exe, which shows the path in the process's own mount namespace:
 * any user can `unshare -Urm`, bind-mount another program over /usr/bin/yes and run it, and the agent would
 * say `path:/usr/bin/yes`. The path is now a selector only when it names, in the agent's view, the very file
 * the process runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from '../helpers/child-process.js';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadPeercred } from '../../src/identity/agent/peercred/index.js';
import { HeldProcess, UnixAttestor, WorkloadAttestorRegistry } from '../../src/identity/agent/workloadattest/index.js';
import { killAndWait } from '../identity/agent/helpers.js';

const DECOY = '/usr/bin/yes';

test('a program bind-mounted over another path in its own mount namespace does not get that path as a selector', async (t) => {
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true']);
  if (probe.status !== 0) return t.skip(`SKIPPED: mount namespaces are not available here (unshare -m: ${probe.stderr.toString().trim()})`);
  const dir = mkdtempSync(join(tmpdir(), 'evident-path-selector-'));
  const evil = join(dir, 'evil');
  copyFileSync('/bin/sleep', evil);
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${evil} ${DECOY} && exec ${DECOY} 30`], {
    stdio: 'ignore',
  });
  try {
    const pid = child.pid!;
    for (let i = 0; i < 200 && readlinkSync(`/proc/${pid}/exe`) !== DECOY; i++) await sleep(10);
    assert.equal(readlinkSync(`/proc/${pid}/exe`), DECOY, 'the process claims the decoy path');
    const pidfd = loadPeercred().pidfdOpen(pid);
    try {
      const peer = { pid, uid: 0, gid: 0 };
      const selectors = await new WorkloadAttestorRegistry([new UnixAttestor()]).attest(peer, pidfd, HeldProcess.record(peer, pidfd));
      const values = selectors.map((s) => s.value);
      assert.ok(!values.includes(`path:${DECOY}`), `no path selector for a file it does not run: ${values.join(' ')}`);
      assert.ok(values.includes(`sha256:${createHash('sha256').update(readFileSync(evil)).digest('hex')}`), 'the hash is of what it runs');
    } finally {
      closeSync(pidfd);
    }
  } finally {
    await killAndWait(child);
    rmSync(dir, { recursive: true, force: true });
  }
});
