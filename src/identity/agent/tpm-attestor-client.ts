import { EvidentError } from '../../errors.js';
import { activateCredential } from '../../tpm/activate-credential.js';
import { akTemplate, createAk } from '../../tpm/ak.js';
import { createEk, readEkCertificate, type EkKind } from '../../tpm/ek.js';
import type { LoadedObject } from '../../tpm/objects.js';
import type { TpmPublic } from '../../tpm/structures.js';
import { parseTcti, type Tcti } from '../../tpm/tcti.js';
import { Tpm } from '../../tpm/tpm.js';
import { parseTpmChallenge, TPM_TYPE, tpmPayload } from '../common/index.js';
import type { NodeAttestorClient } from './attestor-client.js';

export const EK_KINDS: readonly EkKind[] = ['rsa', 'ecc'];

export interface TpmAttestorClientOptions {
  /** The TPM, as a TCTI string: `device:/dev/tpmrm0` (the default) or `swtpm:host=…,port=…`. */
  readonly tcti?: string;
  /** Which default EK template: `rsa` (L-1, RSA 2048; the default) or `ecc` (L-2, NIST P-256). */
  readonly ek?: EkKind;
  /** The AK's template: ECC P-256 by default (tests give a wrong one to see it refused). */
  readonly akTemplate?: TpmPublic;
  /** Per TPM command (ms). */
  readonly timeoutMs?: number;
}

/** What one attestation holds in the TPM between sending the payload and answering the challenge. */
interface Session {
  readonly tpm: Tpm;
  readonly ek: LoadedObject;
  ak?: LoadedObject;
}

/**
 * The agent side of TPM attestation, talking to the TPM itself (src/tpm, no TPM tools): each attestation
 * opens the TPM, derives the EK again from its template (the same key every time: the agent's ID does not
 * change), reads its certificate from NV, creates an AK under it, answers the server's credential with
 * TPM2_ActivateCredential, and flushes both keys (`close`). The agent renews its SVID the same way, with
 * the same TPM (`renewsByAttesting`), so an agent moved to another machine, or whose TPM was cleared,
 * comes back under another ID at its next renewal.
 */
export class TpmAttestorClient implements NodeAttestorClient {
  readonly type = TPM_TYPE;
  readonly canReattest = true;
  /** Each renewal of the agent SVID is an attestation with the TPM: the SVID never outlives the proof by much. */
  readonly renewsByAttesting = true;
  readonly tcti: Tcti;
  readonly ekKind: EkKind;
  private session: Session | undefined;

  constructor(private readonly o: TpmAttestorClientOptions = {}) {
    this.tcti = parseTcti(o.tcti, '--tpm-tcti');
    const ek = o.ek ?? 'rsa';
    if (!EK_KINDS.includes(ek)) throw new EvidentError('BAD_USAGE', `--tpm-ek '${String(ek)}': the EK is rsa or ecc`);
    this.ekKind = ek;
  }

  async payload(): Promise<Buffer> {
    await this.close(); // an attestation given up half-way leaves nothing loaded
    const tpm = await Tpm.open(this.tcti, this.o.timeoutMs !== undefined ? { timeoutMs: this.o.timeoutMs } : {});
    try {
      // a simulator may be powered on but not started; a started TPM answers TPM_RC_INITIALIZE, which startup() ignores
      if (this.tcti.kind === 'swtpm') await tpm.startup();
      const ek = await createEk(tpm, this.ekKind);
      this.session = { tpm, ek };
      const ekCertificate = await readEkCertificate(tpm, this.ekKind);
      const ak = await createAk(tpm, ek.handle, this.o.akTemplate ?? akTemplate('ecc'));
      this.session.ak = ak;
      return tpmPayload({ ekPublic: ek.publicArea, akPublic: ak.publicArea, ...(ekCertificate ? { ekCertificate } : {}) });
    } catch (e) {
      if (this.session === undefined) await tpm.close();
      await this.close();
      throw e;
    }
  }

  async answer(challenge: Buffer): Promise<Buffer> {
    const s = this.session;
    if (s?.ak === undefined) throw new EvidentError('INTERNAL', 'tpm: a challenge before the payload');
    let credential;
    try {
      credential = parseTpmChallenge(challenge);
    } catch (e) {
      throw new EvidentError('BAD_INPUT', `tpm: the server's challenge is malformed: ${(e as Error).message}`, { cause: e });
    }
    return activateCredential(s.tpm, s.ak.handle, s.ek.handle, credential);
  }

  /** Flushes the EK and the AK (a simulator has no resource manager to do it) and closes the TPM. */
  async close(): Promise<void> {
    const s = this.session;
    if (s === undefined) return;
    this.session = undefined;
    for (const handle of [s.ak?.handle, s.ek.handle]) if (handle !== undefined) await s.tpm.flushContext(handle).catch(() => undefined);
    await s.tpm.close().catch(() => undefined);
  }
}
