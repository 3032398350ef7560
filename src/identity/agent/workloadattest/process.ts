import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { loadPeercred, type PeerCredentials } from '../peercred/peercred.js';
import { WorkloadAttestationError } from './errors.js';
import type { WorkloadProcess } from './types.js';

/** The start time of a process in clock ticks since boot: /proc/PID/stat field 22. */
export function parseStartTime(stat: string): string {
  // comm (field 2) is in parentheses and may itself hold spaces and ')': split after the last ')'.
  const close = stat.lastIndexOf(')');
  const fields = close < 0 ? [] : stat.slice(close + 2).trim().split(' ');
  const start = fields[22 - 3];
  if (start === undefined || !/^\d+$/.test(start)) throw new Error('malformed /proc/PID/stat');
  return start;
}

/**
 * A caller's process held for the time of one attestation. PID reuse is guarded three ways: a pidfd
 * (from SO_PEERPIDFD when the kernel has it: the very process that connected) must stay alive, which
 * also keeps its PID from being reused; /proc/PID is held open as a directory, and reads go through it;
 * the start time (stat field 22) read at the beginning must be unchanged at the end, and /proc/PID must
 * still be the directory we hold.
 *
 * /proc is read with synchronous calls on purpose: the kernel answers from memory in microseconds, and
 * a round trip through the libuv thread pool per read would cost more than the read (see the bench).
 */
export class HeldProcess implements WorkloadProcess {
  private constructor(
    readonly pid: number,
    readonly peer: PeerCredentials,
    private readonly pidfd: number,
    private readonly dirFd: number,
    private readonly dirStat: Stats,
    readonly startTime: string,
  ) {}

  /** `pidfd` is the connection's (kept by the caller, not closed here). */
  static open(peer: PeerCredentials, pidfd: number): HeldProcess {
    const addon = loadPeercred();
    if (!addon.pidfdIsAlive(pidfd)) throw new WorkloadAttestationError('PROCESS_GONE', `process ${peer.pid} has exited`);
    let dirFd: number;
    try {
      dirFd = openSync(`/proc/${peer.pid}`, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (e) {
      throw new WorkloadAttestationError('PROCESS_GONE', `process ${peer.pid} has exited`, { cause: e });
    }
    try {
      // Alive after the open: the directory we hold is the caller's, not a successor's.
      if (!addon.pidfdIsAlive(pidfd)) throw new WorkloadAttestationError('PROCESS_GONE', `process ${peer.pid} has exited`);
      const dirStat = fstatSync(dirFd);
      const startTime = parseStartTime(readFileSync(`/proc/self/fd/${dirFd}/stat`, 'utf8'));
      return new HeldProcess(peer.pid, peer, pidfd, dirFd, dirStat, startTime);
    } catch (e) {
      closeSync(dirFd);
      if (e instanceof WorkloadAttestationError) throw e;
      throw new WorkloadAttestationError('PROCESS_GONE', `process ${peer.pid} has exited`, { cause: e });
    }
  }

  procPath(name: string): string {
    return `/proc/self/fd/${this.dirFd}/${name}`;
  }

  /** Throws unless the process is still the one we started with. */
  verifyUnchanged(): void {
    const changed = (why: string, cause?: unknown): WorkloadAttestationError =>
      new WorkloadAttestationError('PROCESS_CHANGED', `process ${this.pid} changed during attestation (${why}); refusing`, { cause });
    let start: string;
    let now: Stats;
    try {
      start = parseStartTime(readFileSync(this.procPath('stat'), 'utf8'));
      now = statSync(`/proc/${this.pid}`);
    } catch (e) {
      throw changed('it exited', e);
    }
    if (start !== this.startTime) throw changed('start time differs');
    if (now.ino !== this.dirStat.ino || now.dev !== this.dirStat.dev) throw changed('/proc entry replaced');
    if (!loadPeercred().pidfdIsAlive(this.pidfd)) throw changed('it exited');
  }

  close(): void {
    closeSync(this.dirFd);
  }
}
