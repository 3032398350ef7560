import { createEk } from '../tpm/ek.js';
import { publicKeySha256 } from '../tpm/public-key.js';
import { Tpm } from '../tpm/tpm.js';
import { startSimulatedTpm } from './swtpm.js';

/** A simulated machine's TPM, and what an operator enrols it by: the SHA-256 of its endorsement key. */
export interface TpmMachine {
  /** What `agent run --tpm-tcti` takes. */
  readonly tcti: string;
  /** Hex; the agent attests as `…/evident/agent/tpm/<ekHash>`. */
  readonly ekHash: string;
  stop(): Promise<void>;
}

/**
 * A TPM for one of the demo's runners: swtpm with its state in `stateDir`, and its RSA EK's hash (the
 * agent's default EK), read as an operator enrolling the machine would, before its agent ever runs.
 */
export async function startTpmMachine(stateDir: string): Promise<TpmMachine> {
  const sim = await startSimulatedTpm(stateDir);
  try {
    const tpm = await Tpm.open(sim.tcti);
    try {
      const ek = await createEk(tpm, 'rsa');
      await tpm.flushContext(ek.handle); // a simulator has no resource manager: the agent needs the slots
      return { tcti: sim.tcti, ekHash: publicKeySha256(ek.public), stop: () => sim.stop() };
    } finally {
      await tpm.close();
    }
  } catch (e) {
    await sim.stop();
    throw e;
  }
}
