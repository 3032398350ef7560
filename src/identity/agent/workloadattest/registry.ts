import { Registry } from '../../common/registry.js';
import type { PeerCredentials } from '../peercred/peercred.js';
import { WorkloadAttestationError } from './errors.js';
import { HeldProcess, type ConnectedProcess } from './process.js';
import type { Selector, WorkloadAttestor } from './types.js';

/**
 * The workload attestors the agent runs (SPIRE's registry of plugins): each caller is attested by all
 * of them, on a process held for the whole attestation and checked unchanged at its end.
 */
export class WorkloadAttestorRegistry {
  private readonly attestors = new Registry<WorkloadAttestor>('workload attestor');

  constructor(attestors: readonly WorkloadAttestor[] = []) {
    for (const a of attestors) this.register(a);
  }

  /** A type registered twice is an error. */
  register(attestor: WorkloadAttestor): this {
    this.attestors.register(attestor.type, attestor);
    return this;
  }

  types(): string[] {
    return this.attestors.names();
  }

  /**
   * The selectors of the process that connected with `peer`; `pidfd` pins that process (from
   * SO_PEERPIDFD or pidfd_open), `origin` is what it was at accept (`HeldProcess.record`). Throws
   * WorkloadAttestationError when the process cannot be vouched for, or is no longer what it was at accept.
   */
  async attest(peer: PeerCredentials, pidfd: number, origin: ConnectedProcess): Promise<Selector[]> {
    const proc = HeldProcess.open(peer, pidfd, origin);
    try {
      let selectors: Selector[][];
      try {
        selectors = await Promise.all(this.attestors.values().map((a) => a.attest(proc)));
      } catch (e) {
        // A read that fails because the process went away is PROCESS_CHANGED, not an attestor bug.
        proc.verifyUnchanged();
        if (e instanceof WorkloadAttestationError) throw e; // an attestor's own verdict on the process
        throw new WorkloadAttestationError('ATTESTOR_FAILED', `attesting process ${peer.pid} failed: ${(e as Error).message}`, {
          cause: e,
        });
      }
      proc.verifyUnchanged();
      return selectors.flat();
    } finally {
      proc.close();
    }
  }
}
