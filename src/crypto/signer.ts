import { EvidentError } from '../errors.js';
import type { GpgSignature } from './gpg/signature.js';
import type { PrivateKey, PublicKey } from './keys.js';

/**
 * Whatever signs metadata: a static key, or a key with an X.509 certificate (an SVID). A certificate
 * signer's signature entries carry the certificate chain (`cert`, PEM: the leaf, then intermediates), so a
 * verifier can check who the signer was without having been given its key.
 */
export interface Signer {
  readonly keyid: string;
  readonly publicKey: PublicKey;
  readonly certificate?: string;
  /** Hex signature, the in-toto metablock encoding. */
  sign(data: Uint8Array): string;
  signRaw(data: Uint8Array): Buffer;
  /**
   * Only for a signer whose metablock entry is not `{keyid, sig}`: an OpenPGP key (crypto/gpg/) makes the
   * Python reference's `{keyid, other_headers, signature}`, and then `sign` and `signRaw` refuse.
   */
  metablockSignature?(data: Uint8Array): GpgSignature;
}

/**
 * A key bound to a certificate that expires: signing after `notAfter` is refused, because the signature
 * could never be verified as made while the certificate was valid (an SVID that expired during a step).
 */
export class CertificateSigner implements Signer {
  constructor(
    private readonly key: PrivateKey,
    readonly certificate: string,
    readonly notAfter: Date,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get keyid(): string {
    return this.key.keyid;
  }

  get publicKey(): PublicKey {
    return this.key.publicKey;
  }

  sign(data: Uint8Array): string {
    this.checkValid();
    return this.key.sign(data);
  }

  signRaw(data: Uint8Array): Buffer {
    this.checkValid();
    return this.key.signRaw(data);
  }

  private checkValid(): void {
    const now = this.now();
    if (now.getTime() >= this.notAfter.getTime()) {
      throw new EvidentError(
        'ENVIRONMENT',
        `the signing certificate expired at ${this.notAfter.toISOString()}, before the step finished (${now.toISOString()}); fetch a fresh SVID and run the step again`,
      );
    }
  }
}
