import type { Plugin } from '../../common/catalog.js';
import type { SelectorKind } from '../../common/selectors.js';
import type { PeerCredentials } from '../peercred/peercred.js';
import type { Selector } from '../../proto/selector.js';

export type { Selector };

/** The executable a process runs, as the file /proc/PID/exe opens: device and inode. An exec changes it. */
export interface ExecutableId {
  readonly dev: bigint;
  readonly ino: bigint;
}

/** Whether two stat results (bigint) name the same file. */
export function sameExecutable(a: ExecutableId, b: ExecutableId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * A calling process, pinned: `procPath(name)` reads `/proc/PID/<name>` through a directory descriptor
 * opened while the caller was known to be alive, so a read either reaches that very process or fails.
 */
export interface WorkloadProcess {
  readonly pid: number;
  /** What SO_PEERCRED said at connect() time. */
  readonly peer: PeerCredentials;
  /**
   * The executable it ran when it connected, checked to be the one it runs at the start and at the end
   * of the attestation; an attestor that reads the executable checks it read this one.
   */
  readonly exe: ExecutableId;
  procPath(name: string): string;
}

/**
 * A workload attestor (SPIRE's extension point): turns a calling process into selectors. Attestors are
 * run by the registry, which guards against the process changing underneath them.
 */
export interface WorkloadAttestor {
  readonly type: string;
  attest(proc: WorkloadProcess): Promise<Selector[]>;
}

/** A workload attestor's catalog entry (../catalog.ts): its settings, the selectors it produces, and how to build it. */
export type WorkloadAttestorPlugin = Plugin<undefined, WorkloadAttestor> & { readonly selectors: readonly SelectorKind[] };
