import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { makeCredential, type Credential } from '../../../tpm/make-credential.js';
import type { TpmPublic } from '../../../tpm/structures.js';
import type { Clock } from '../../../util/clock.js';
import { AttestationError } from './types.js';

/** How long the agent's TPM has to open the credential: a hardware TPM's RSA decryption takes well under a second. */
export const ACTIVATION_DEADLINE_MS = 30_000;

/** The secret's size: a SHA-256 digest, the most a credential for a SHA-256 EK may carry. */
const SECRET_BYTES = 32;

/**
 * One credential-activation challenge: a fresh random secret, sealed by MakeCredential to the EK and the
 * AK's name, which the agent must give back, once, before the deadline. The secret lives only in this
 * object, so an answer recorded from an earlier attestation is an answer to another secret (replay), and
 * the object accepts one answer only, right or wrong (no second guess). Answers are compared in
 * constant time, whatever their length.
 */
export class ActivationChallenge {
  private answered = false;

  private constructor(
    private readonly secret: Buffer,
    /** Unix ms after which no answer is accepted. */
    readonly deadline: number,
    private readonly clock: Clock,
  ) {}

  /** A new challenge for the AK named `akName` under `ek`, and the credential to send the agent. */
  static issue(
    ek: TpmPublic,
    akName: Buffer,
    clock: Clock,
    deadlineMs = ACTIVATION_DEADLINE_MS,
  ): { challenge: ActivationChallenge; credential: Credential } {
    const secret = randomBytes(SECRET_BYTES);
    const credential = makeCredential(ek, akName, secret);
    return { challenge: new ActivationChallenge(secret, clock.now() + deadlineMs, clock), credential };
  }

  /**
   * Accepts the answer when it is the secret, the first answer given, in time.
   *
   * @throws AttestationError saying which of the three it is not
   */
  check(answer: Uint8Array): void {
    if (this.answered) throw new AttestationError('tpm: this activation challenge was already answered; each is good for one answer');
    this.answered = true;
    if (this.clock.now() > this.deadline)
      throw new AttestationError(
        `tpm: the activation answer came after the challenge's deadline (${new Date(this.deadline).toISOString()})`,
      );
    // hashes of equal length, so the comparison takes the same time whatever was sent
    const digest = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
    if (!timingSafeEqual(digest(answer), digest(this.secret)))
      throw new AttestationError(
        "tpm: the activation answer is not the credential's secret: the agent's TPM does not hold this EK, or has no key of the AK's name loaded",
      );
  }
}
