import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { UNIX_SELECTORS } from '../../common/selectors.js';
import { WorkloadAttestationError } from './errors.js';
import { ExeHasher } from './exe-hash.js';
import { IdNames } from './names.js';
import {
  sameExecutable,
  type ExecutableId,
  type Selector,
  type WorkloadAttestor,
  type WorkloadAttestorPlugin,
  type WorkloadProcess,
} from './types.js';

/** The ids of /proc/PID/status: effective uid and gid (as SPIRE's unix attestor), supplementary groups. */
export interface ProcStatusIds {
  uid: number;
  gid: number;
  groups: number[];
}

export function parseStatusIds(status: string): ProcStatusIds {
  const field = (name: string): string[] => {
    const line = status.split('\n').find((l) => l.startsWith(`${name}:`));
    if (line === undefined) throw new Error(`/proc/PID/status has no ${name} line`);
    return line
      .slice(name.length + 1)
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '');
  };
  const num = (s: string | undefined, what: string): number => {
    if (s === undefined || !/^\d+$/.test(s)) throw new Error(`/proc/PID/status: bad ${what}`);
    return Number(s);
  };
  // Uid:/Gid: list real, effective, saved, filesystem.
  return { uid: num(field('Uid')[1], 'Uid'), gid: num(field('Gid')[1], 'Gid'), groups: field('Groups').map((g) => num(g, 'Groups')) };
}

export interface UnixAttestorOptions {
  names?: IdNames;
  hasher?: ExeHasher;
  /** Hash the executable (`unix:sha256`); on by default. */
  hashExecutable?: boolean;
}

/**
 * The `unix` workload attestor: `uid`, `user`, `gid`, `group`, `supplementary_gid`,
 * `supplementary_group`, `path` (the executable, from /proc/PID/exe) and `sha256` (its hash).
 */
export class UnixAttestor implements WorkloadAttestor {
  readonly type = 'unix';
  private readonly names: IdNames;
  private readonly hasher: ExeHasher;
  private readonly hashExecutable: boolean;

  constructor(options: UnixAttestorOptions = {}) {
    this.names = options.names ?? new IdNames();
    this.hasher = options.hasher ?? new ExeHasher();
    this.hashExecutable = options.hashExecutable ?? true;
  }

  async attest(proc: WorkloadProcess): Promise<Selector[]> {
    const ids = parseStatusIds(readFileSync(proc.procPath('status'), 'utf8'));
    // SO_PEERCRED is fixed at connect(); /proc is now. A process that connected as one user and then
    // became another (fork, keep the socket, exec a setuid binary) must not get the other's identity.
    if (ids.uid !== proc.peer.uid || ids.gid !== proc.peer.gid) {
      throw new WorkloadAttestationError(
        'PROCESS_CHANGED',
        `process ${proc.pid} connected as uid ${proc.peer.uid} gid ${proc.peer.gid} but now runs as uid ${ids.uid} gid ${ids.gid}; refusing`,
      );
    }
    const out: Selector[] = [];
    const add = (key: string, value: string | number): void => {
      out.push({ type: this.type, value: `${key}:${value}` });
    };
    add('uid', ids.uid);
    const user = this.names.user(ids.uid);
    if (user !== undefined) add('user', user);
    add('gid', ids.gid);
    const group = this.names.group(ids.gid);
    if (group !== undefined) add('group', group);
    for (const g of new Set(ids.groups)) {
      add('supplementary_gid', g);
      const name = this.names.group(g);
      if (name !== undefined) add('supplementary_group', name);
    }
    const exe = proc.procPath('exe');
    const path = pathInAgentView(readlinkSync(exe), proc.exe);
    if (path !== undefined) add('path', path);
    // Hash the file recorded at connect or nothing: /proc/PID/exe follows any exec since.
    if (this.hashExecutable) add('sha256', await this.hasher.sha256(exe, proc.exe));
    return out;
  }
}

/**
 * The executable's path, as a selector only when that path names the very file the process runs in the
 * agent's own view of the filesystem. /proc/PID/exe gives the path in the process's mount namespace: any
 * user can `unshare -Urm`, bind-mount another program over /usr/bin/yes and run it, and the path would claim
 * /usr/bin/yes. A deleted or replaced executable (`… (deleted)`) gives no path either.
 */
function pathInAgentView(path: string, runs: ExecutableId): string | undefined {
  const s = statSync(path, { bigint: true, throwIfNoEntry: false });
  return s !== undefined && sameExecutable(s, runs) ? path : undefined;
}

/** The catalog entry: no settings; the agent runs it unless told otherwise (`--workload-attestor`). */
export const unixPlugin: WorkloadAttestorPlugin = {
  settings: [],
  selectors: UNIX_SELECTORS,
  build: () => new UnixAttestor(),
};
