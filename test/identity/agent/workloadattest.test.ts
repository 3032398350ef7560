import { spawn, type ChildProcess } from '../../helpers/child-process.js';
import { createHash } from 'node:crypto';
import { closeSync, readFileSync, realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadPeercred } from '../../../src/identity/agent/peercred/index.js';
import {
  ExeHasher,
  HeldProcess,
  IdNames,
  parseIdFile,
  parseStartTime,
  parseStatusIds,
  UnixAttestor,
  WorkloadAttestationError,
  WorkloadAttestorRegistry,
  type Selector,
  type WorkloadAttestor,
  type WorkloadProcess,
} from '../../../src/identity/agent/workloadattest/index.js';
import { canSwitchUser, killAndWait, NOBODY, openTempDir } from './helpers.js';

function sleeper(as?: { uid: number; gid: number }): ChildProcess {
  return spawn('/bin/sleep', ['30'], { stdio: 'ignore', ...(as ?? {}) });
}

async function started(child: ChildProcess): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child.pid as number;
}

function values(selectors: Selector[], key: string): string[] {
  return selectors.filter((s) => s.type === 'unix' && s.value.startsWith(`${key}:`)).map((s) => s.value.slice(key.length + 1));
}

/** Attests a child by pid, pinned with pidfd_open and recorded, as the agent does at accept on kernels without SO_PEERPIDFD. */
async function attestChild(registry: WorkloadAttestorRegistry, child: ChildProcess, uid: number, gid: number): Promise<Selector[]> {
  const pid = await started(child);
  const pidfd = loadPeercred().pidfdOpen(pid);
  try {
    return await registry.attest({ pid, uid, gid }, pidfd, HeldProcess.record({ pid, uid, gid }, pidfd));
  } finally {
    closeSync(pidfd);
  }
}

describe('workloadattest: parsers', () => {
  it('takes field 22 of /proc/PID/stat even when comm holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    assert.equal(parseStartTime(`42 (a) b) (c) ${fields.join(' ')}\n`), '22');
    assert.equal(parseStartTime(readFileSync('/proc/self/stat', 'utf8')).length > 0, true);
    assert.throws(() => parseStartTime('42 (x) S 1'), /malformed/);
  });

  it('reads effective uid/gid and supplementary groups from /proc/PID/status', () => {
    const status = 'Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t50\t51\t52\t53\nGroups:\t4 24 27 \n';
    assert.deepEqual(parseStatusIds(status), { uid: 1001, gid: 51, groups: [4, 24, 27] });
    assert.deepEqual(parseStatusIds('Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n').groups, []);
    assert.throws(() => parseStatusIds('Gid:\t0\t0\t0\t0\nGroups:\n'), /no Uid line/);
    assert.throws(() => parseStatusIds('Uid:\tx\ty\nGid:\t0\t0\nGroups:\n'), /bad Uid/);
  });

  it('maps ids to names from passwd/group files, first name wins, junk skipped', async () => {
    const names = parseIdFile('# c\nroot:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\nbad:x:zz:0\n\nalice:x:1000:1000::/home/a:/bin/sh\n');
    assert.deepEqual(
      [...names],
      [
        [0, 'root'],
        [1000, 'alice'],
      ],
    );
    const d = await openTempDir('evident-names-');
    try {
      const passwd = join(d.dir, 'passwd');
      await writeFile(passwd, 'a:x:7:7::/:/bin/sh\n');
      const ids = new IdNames(passwd, join(d.dir, 'missing-group'), 0);
      assert.equal(ids.user(7), 'a');
      assert.equal(ids.group(7), undefined);
      await writeFile(passwd, 'bb:x:7:7::/:/bin/sh\n'); // changed size: re-read
      assert.equal(ids.user(7), 'bb');
    } finally {
      await d.cleanup();
    }
  });

  it('hashes an executable once and again when it changes', async () => {
    const d = await openTempDir('evident-hash-');
    try {
      const f = join(d.dir, 'bin');
      await writeFile(f, 'one');
      const h = new ExeHasher();
      const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
      assert.equal(await h.sha256(f), sha('one'));
      assert.equal(await h.sha256(f), sha('one'));
      await writeFile(f, 'two');
      assert.equal(await h.sha256(f), sha('two'));
    } finally {
      await d.cleanup();
    }
  });
});

describe('workloadattest: unix attestor on real processes', () => {
  const registry = new WorkloadAttestorRegistry([new UnixAttestor()]);

  it('gives uid, user, gid, group, supplementary gids, path and sha256 of a root process', async () => {
    const child = sleeper();
    try {
      const sel = await attestChild(registry, child, 0, 0);
      const status = parseStatusIds(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      assert.deepEqual(values(sel, 'uid'), [String(status.uid)]);
      assert.deepEqual(values(sel, 'gid'), [String(status.gid)]);
      if (status.uid === 0) assert.deepEqual(values(sel, 'user'), ['root']);
      assert.deepEqual(values(sel, 'supplementary_gid'), [...new Set(status.groups)].map(String));
      const exe = realpathSync('/bin/sleep');
      assert.deepEqual(values(sel, 'path'), [exe]);
      assert.deepEqual(values(sel, 'sha256'), [createHash('sha256').update(readFileSync(exe)).digest('hex')]);
    } finally {
      await killAndWait(child);
    }
  });

  it('gives the unprivileged user of a process running as nobody', async (t) => {
    if (!canSwitchUser()) return t.skip('not root: cannot spawn a child as another uid');
    const child = sleeper({ uid: NOBODY, gid: NOBODY });
    try {
      const sel = await attestChild(registry, child, NOBODY, NOBODY);
      assert.deepEqual(values(sel, 'uid'), [String(NOBODY)]);
      assert.deepEqual(values(sel, 'gid'), [String(NOBODY)]);
      assert.deepEqual(values(sel, 'user'), ['nobody']);
      assert.deepEqual(values(sel, 'supplementary_gid'), []); // spawn with uid/gid drops supplementary groups
    } finally {
      await killAndWait(child);
    }
  });

  it('refuses a process whose uid or gid is not what the kernel said at connect (a setuid exec after connecting)', async (t) => {
    if (!canSwitchUser()) return t.skip('not root: the child cannot run as a uid other than the connecting one');
    // A connection made as nobody whose process then became root (fork, keep the socket, exec a setuid
    // binary) must not be attested as root.
    const child = sleeper();
    const pid = await started(child);
    const pidfd = loadPeercred().pidfdOpen(pid);
    try {
      for (const [uid, gid] of [
        [NOBODY, NOBODY],
        [0, NOBODY],
      ] as const) {
        await assert.rejects(
          registry.attest({ pid, uid, gid }, pidfd, HeldProcess.record({ pid, uid, gid }, pidfd)),
          (e: unknown) => e instanceof WorkloadAttestationError && e.reason === 'PROCESS_CHANGED' && /connected as/.test(e.message),
        );
      }
    } finally {
      closeSync(pidfd);
      await killAndWait(child);
    }
  });

  it('refuses a process that has already exited', async () => {
    const child = sleeper();
    const pid = await started(child);
    const pidfd = loadPeercred().pidfdOpen(pid);
    try {
      const origin = HeldProcess.record({ pid, uid: 0, gid: 0 }, pidfd);
      await killAndWait(child);
      await assert.rejects(
        registry.attest({ pid, uid: 0, gid: 0 }, pidfd, origin),
        (e: unknown) => e instanceof WorkloadAttestationError && e.reason === 'PROCESS_GONE',
      );
    } finally {
      closeSync(pidfd);
    }
  });

  it("refuses a process that exec'd another binary since it was recorded (at accept), and a hash of another file", async () => {
    const child = spawn('/bin/sh', ['-c', 'sleep 0.3; exec /bin/sleep 30'], { stdio: 'ignore' });
    const pid = await started(child);
    const pidfd = loadPeercred().pidfdOpen(pid);
    try {
      const origin = HeldProcess.record({ pid, uid: 0, gid: 0 }, pidfd);
      await new Promise((r) => setTimeout(r, 600));
      await assert.rejects(
        registry.attest({ pid, uid: 0, gid: 0 }, pidfd, origin),
        (e: unknown) =>
          e instanceof WorkloadAttestationError &&
          e.reason === 'PROCESS_CHANGED' &&
          /another executable than when it connected/.test(e.message),
      );
      await assert.rejects(new ExeHasher().sha256(`/proc/${pid}/exe`, origin.exe), /no longer the executable/);
      const now = await registry.attest({ pid, uid: 0, gid: 0 }, pidfd, HeldProcess.record({ pid, uid: 0, gid: 0 }, pidfd));
      assert.deepEqual(values(now, 'path'), [realpathSync('/bin/sleep')], 'recorded anew, it is the new binary');
    } finally {
      closeSync(pidfd);
      await killAndWait(child);
    }
  });

  it('refuses when the process dies during attestation (its PID could be reused)', async () => {
    const child = sleeper();
    let seen: WorkloadProcess | undefined;
    const killer: WorkloadAttestor = {
      type: 'killer',
      async attest(proc) {
        seen = proc;
        await killAndWait(child);
        return [{ type: 'killer', value: 'x' }];
      },
    };
    const reg = new WorkloadAttestorRegistry([killer]);
    await assert.rejects(
      attestChild(reg, child, 0, 0),
      (e: unknown) => e instanceof WorkloadAttestationError && e.reason === 'PROCESS_CHANGED',
    );
    assert.equal(seen?.pid, child.pid);
  });

  it('an attestor that fails on a live process is ATTESTOR_FAILED, and two attestors of one type are refused', async () => {
    const child = sleeper();
    const failing: WorkloadAttestor = {
      type: 'failing',
      attest() {
        return Promise.reject(new Error('boom'));
      },
    };
    try {
      await assert.rejects(
        attestChild(new WorkloadAttestorRegistry([failing]), child, 0, 0),
        (e: unknown) => e instanceof WorkloadAttestationError && e.reason === 'ATTESTOR_FAILED' && /boom/.test(e.message),
      );
    } finally {
      await killAndWait(child);
    }
    assert.throws(() => new WorkloadAttestorRegistry([failing, failing]), /registered twice/);
  });
});
