import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { loadPeercred, type PeerCredentials } from '../peercred/peercred.js';
import { WorkloadAttestationError } from './errors.js';
import { sameExecutable, type ExecutableId, type WorkloadProcess } from './types.js';

/** The start time of a process in clock ticks since boot: /proc/PID/stat field 22. */
export function parseStartTime(stat: string): string {
  // comm (field 2) is in parentheses and may itself hold spaces and ')': split after the last ')'.
  const close = stat.lastIndexOf(')');
  const fields =
    close < 0
      ? []
      : stat
          .slice(close + 2)
          .trim()
          .split(' ');
  const start = fields[22 - 3];
  if (start === undefined || !/^\d+$/.test(start)) throw new Error('malformed /proc/PID/stat');
  return start;
}

/**
 * The process that connected to the Workload API, read at accept(), before it could send a request.
 * SO_PEERCRED names that process for the life of the connection, but the process can exec another
 * binary after connecting (its PID, uid and start time stay), and whoever shares the socket (a child
 * forked after connect) then calls in its name. Each call is checked against this record.
 */
export interface ConnectedProcess {
  readonly pid: number;
  /** /proc/PID/stat field 22: tells the process from a later one given the same PID. */
  readonly startTime: string;
  /** The executable it ran at accept. */
  readonly exe: ExecutableId;
}

const describeExe = (e: ExecutableId): string => `device ${e.dev} inode ${e.ino}`;

/** /proc/PID held open as a directory while the process is known alive, and its start time read through it. */
interface HeldDir {
  fd: number;
  stat: Stats;
  startTime: string;
}

function holdProcDir(peer: PeerCredentials, pidfd: number): HeldDir {
  const addon = loadPeercred();
  if (!addon.pidfdIsAlive(pidfd)) throw new WorkloadAttestationError('PROCESS_GONE', `process ${peer.pid} has exited`);
  let fd: number;
  try {
    fd = openSync(`/proc/${peer.pid}`, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    throw new WorkloadAttestationError('PROCESS_GONE', `process ${peer.pid} has exited`, { cause: e });
  }
  try {
    // Alive after the open: the directory we hold is the caller's, not a successor's.
    if (!addon.pidfdIsAlive(pidfd)) throw new WorkloadAttestationError('PROCESS_GONE', `process ${peer.pid} has exited`);
    const stat = fstatSync(fd);
    const startTime = parseStartTime(readFileSync(`/proc/self/fd/${fd}/stat`, 'utf8'));
    return { fd, stat, startTime };
  } catch (e) {
    closeSync(fd);
    if (e instanceof WorkloadAttestationError) throw e;
    throw new WorkloadAttestationError('PROCESS_GONE', `process ${peer.pid} has exited`, { cause: e });
  }
}

/** stat() of /proc/PID/exe follows it to the file the process runs (readable by root, or by a process's own user). */
function executableOf(dirFd: number): ExecutableId {
  const s = statSync(`/proc/self/fd/${dirFd}/exe`, { bigint: true });
  return { dev: s.dev, ino: s.ino };
}

/**
 * A caller's process held for the time of one attestation. PID reuse is guarded three ways: a pidfd
 * (from SO_PEERPIDFD when the kernel has it: the very process that connected) must stay alive, which
 * also keeps its PID from being reused; /proc/PID is held open as a directory, and reads go through it;
 * the start time (stat field 22) read at the beginning must be unchanged at the end, and /proc/PID must
 * still be the directory we hold. An exec is guarded by the executable: it must be the one recorded at
 * connect (`ConnectedProcess`) at the beginning and at the end.
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
    readonly exe: ExecutableId,
  ) {}

  /**
   * Reads the process that has just connected (`pidfd`: the connection's, not closed here). Called at
   * accept, so an exec after connect and before the first request is seen as a change. Throws
   * WorkloadAttestationError when the process is gone or its executable cannot be read.
   */
  static record(peer: PeerCredentials, pidfd: number): ConnectedProcess {
    const dir = holdProcDir(peer, pidfd);
    try {
      let exe: ExecutableId;
      try {
        exe = executableOf(dir.fd);
      } catch (e) {
        if (!loadPeercred().pidfdIsAlive(pidfd))
          throw new WorkloadAttestationError('PROCESS_GONE', `process ${peer.pid} has exited`, { cause: e });
        throw new WorkloadAttestationError(
          'ATTESTOR_FAILED',
          `cannot read the executable of process ${peer.pid} at connect: ${(e as Error).message}`,
          { cause: e },
        );
      }
      return { pid: peer.pid, startTime: dir.startTime, exe };
    } finally {
      closeSync(dir.fd);
    }
  }

  /**
   * Holds the process of a call on the connection recorded as `origin`, and refuses it unless it is
   * still that process, running that executable. `pidfd` is the connection's (kept by the caller).
   */
  static open(peer: PeerCredentials, pidfd: number, origin: ConnectedProcess): HeldProcess {
    const dir = holdProcDir(peer, pidfd);
    const proc = new HeldProcess(peer.pid, peer, pidfd, dir.fd, dir.stat, dir.startTime, origin.exe);
    try {
      if (origin.pid !== peer.pid || origin.startTime !== dir.startTime) {
        throw new WorkloadAttestationError(
          'PROCESS_CHANGED',
          `process ${peer.pid} is not the process that connected (its start time differs); refusing`,
        );
      }
      proc.verifyExecutable();
      return proc;
    } catch (e) {
      proc.close();
      throw e;
    }
  }

  procPath(name: string): string {
    return `/proc/self/fd/${this.dirFd}/${name}`;
  }

  /** Throws unless the process is still the one we started with, running the executable it connected with. */
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
    this.verifyExecutable();
  }

  /**
   * The executable must be the one recorded at connect. Start time, PID and uid survive an exec, so this
   * is what tells a process that connected and then exec'd the allowed binary (while a child forked
   * before the exec calls on the shared socket) from the allowed binary connecting itself.
   */
  private verifyExecutable(): void {
    let now: ExecutableId;
    try {
      now = executableOf(this.dirFd);
    } catch (e) {
      throw new WorkloadAttestationError(
        'PROCESS_CHANGED',
        `cannot read the executable of process ${this.pid}: ${(e as Error).message}; refusing`,
        { cause: e },
      );
    }
    if (!sameExecutable(now, this.exe)) {
      throw new WorkloadAttestationError(
        'PROCESS_CHANGED',
        `process ${this.pid} runs another executable than when it connected (an exec after connect: ${describeExe(this.exe)} then, ${describeExe(now)} now); refusing`,
      );
    }
  }

  close(): void {
    closeSync(this.dirFd);
  }
}
