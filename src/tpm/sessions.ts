/**
 * Policy sessions (TPM 2.0 Part 3 §11, §23): an unsalted, unbound policy session
 * (TPM2_StartAuthSession), satisfied by TPM2_PolicySecret with a hierarchy's password. This is what the
 * EK's authPolicy asks for: PolicySecret(TPM_RH_ENDORSEMENT), computed here too (policySecretDigest), so the
 * EK template's constant is checked, not trusted (test/tpm/ek.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { TPM_ALG, TPM_CC, TPM_RH, TPM_SE } from './constants.js';
import { passwordSession, policySessionAuth, type AuthSession } from './command.js';
import { digest, hashInfo } from './hash.js';
import { readTicket } from './structures.js';
import type { Tpm } from './tpm.js';

/** TPM2_StartAuthSession of `type` (policy or trial) with `authHash`; resolves to the session handle. */
export async function startAuthSession(tpm: Tpm, type: number = TPM_SE.POLICY, authHash: number = TPM_ALG.SHA256): Promise<number> {
  const { handles, params } = await tpm.execute(
    {
      code: TPM_CC.StartAuthSession,
      handles: [TPM_RH.NULL, TPM_RH.NULL],
      params: (w) =>
        w
          // the nonce is at least 16 bytes and at most the digest size (Part 3 §11.1)
          .tpm2b(randomBytes(hashInfo(authHash).size), 'nonceCaller')
          .tpm2b(Buffer.alloc(0), 'encryptedSalt')
          .u8(type)
          .u16(TPM_ALG.NULL)
          .u16(authHash),
    },
    1,
  );
  params.tpm2b('nonceTPM');
  params.end();
  return handles[0]!;
}

/** TPM2_PolicySecret: `session` is satisfied by the password of `authHandle` (a hierarchy: its password, empty by default). */
export async function policySecret(tpm: Tpm, session: number, authHandle: number, auth: AuthSession = passwordSession()): Promise<void> {
  const { params } = await tpm.execute({
    code: TPM_CC.PolicySecret,
    handles: [authHandle, session],
    sessions: [auth],
    params: (w) => w.tpm2b(Buffer.alloc(0), 'nonceTPM').tpm2b(Buffer.alloc(0), 'cpHashA').tpm2b(Buffer.alloc(0), 'policyRef').i32(0),
  });
  params.tpm2b('timeout');
  readTicket(params, 'policyTicket');
  params.end();
}

/** TPM2_PolicyGetDigest: the session's policy digest so far. */
export async function policyGetDigest(tpm: Tpm, session: number): Promise<Buffer> {
  const { params } = await tpm.execute({ code: TPM_CC.PolicyGetDigest, handles: [session] });
  const d = params.tpm2b('policyDigest');
  params.end();
  return d;
}

/**
 * The policy digest of PolicySecret(entity) with no policyRef (Part 3 §23.4): PolicyUpdate from a zero
 * digest, H(H(0…0 || TPM_CC_PolicySecret || name) || policyRef). A hierarchy's name is its handle.
 */
export function policySecretDigest(entityName: Buffer, hashAlg: number = TPM_ALG.SHA256, policyRef: Buffer = Buffer.alloc(0)): Buffer {
  const cc = Buffer.alloc(4);
  cc.writeUInt32BE(TPM_CC.PolicySecret);
  const first = digest(hashAlg, Buffer.alloc(hashInfo(hashAlg).size), cc, entityName);
  return digest(hashAlg, first, policyRef);
}

/**
 * Runs `use` with a policy session satisfying PolicySecret(TPM_RH_ENDORSEMENT), the EK's policy. The
 * session is used once (no continueSession), so the TPM flushes it when the command succeeds; when the
 * command fails it is flushed here, so a failure does not leak one of the TPM's few session slots.
 */
export async function withEndorsementPolicy<T>(tpm: Tpm, use: (auth: AuthSession) => Promise<T>): Promise<T> {
  const session = await startAuthSession(tpm, TPM_SE.POLICY);
  try {
    await policySecret(tpm, session, TPM_RH.ENDORSEMENT);
    return await use(policySessionAuth(session));
  } catch (e) {
    await tpm.flushContext(session).catch(() => undefined);
    throw e;
  }
}
