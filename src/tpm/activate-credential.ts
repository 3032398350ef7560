/**
 * TPM2_ActivateCredential (TPM 2.0 Part 3 §12.5), the agent's half of credential activation: the TPM
 * decrypts the seed with the EK, checks the HMAC over the credential and the AK's name, and only then
 * returns the credential. A credential made for another EK or another AK name fails with TPM_RC_INTEGRITY
 * (or TPM_RC_VALUE/TPM_RC_SIZE for a seed that does not decrypt), so answering with the credential proves
 * the AK is in the TPM that holds the EK.
 *
 * The AK (activateHandle, ADMIN role) is authorized by its password, the EK (keyHandle, USER role) by its
 * PolicySecret(TPM_RH_ENDORSEMENT) session.
 */
import { TPM_CC } from './constants.js';
import { passwordSession, type AuthSession } from './command.js';
import type { Credential } from './make-credential.js';
import { withEndorsementPolicy } from './sessions.js';
import type { Tpm } from './tpm.js';

export async function activateCredential(
  tpm: Tpm,
  akHandle: number,
  ekHandle: number,
  credential: Credential,
  akAuth: AuthSession = passwordSession(),
): Promise<Buffer> {
  return withEndorsementPolicy(tpm, async (ekAuth) => {
    const { params } = await tpm.execute({
      code: TPM_CC.ActivateCredential,
      handles: [akHandle, ekHandle],
      sessions: [akAuth, ekAuth],
      params: (w) => w.tpm2b(credential.idObject, 'credentialBlob').tpm2b(credential.encryptedSecret, 'secret'),
    });
    const certInfo = params.tpm2b('certInfo');
    params.end();
    return certInfo;
  });
}
