import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EvidentError } from '../../../errors.js';
import {
  checkValidity,
  isCa,
  openssl,
  parseCertificateDer,
  pemCertificates,
  verifyCertificateChain,
  X509ChainError,
} from '../../../crypto/x509/index.js';
import type { X509Certificate } from '../../../crypto/x509/x509.js';
import { parseX509popPayload, verifyX509popAnswer, X509POP_TYPE } from '../../common/index.js';
import type { Selector } from '../../proto/selector.js';
import type { Clock } from '../../../util/clock.js';
import { AttestationError, type AttestationResult, type ChallengeChannel, type NodeAttestor } from './types.js';

// The payload and the challenge signature are the agent's as much as the server's (identity/common).
export { answerX509popChallenge, x509popPayload, type X509popPayload } from '../../common/index.js';

export function sha1Hex(der: Uint8Array): string {
  return createHash('sha1').update(der).digest('hex');
}

/**
 * x509pop attestation: the node holds a key whose certificate chains to a CA this server trusts. The
 * server checks the chain, sends a fresh nonce, and checks the node's signature over it. The agent's ID
 * is `spiffe://td/evident/agent/x509pop/<sha1 of its cert>`; its selectors name the subject CN, the
 * certificate's fingerprint and each CA fingerprint on the chain.
 */
export class X509popAttestor implements NodeAttestor {
  readonly type = X509POP_TYPE;
  private readonly roots: X509Certificate[];

  /** `trustedCas`: DER certificates; only CA certificates (basicConstraints cA) among them are trusted. */
  constructor(
    trustedCas: Uint8Array[],
    private readonly clock: Clock,
  ) {
    this.roots = trustedCas.map((d) => parseCertificateDer(d)).filter(isCa);
  }

  /** The attestor trusting the CA certificates of a PEM file (`--x509pop-ca-bundle FILE`). */
  static async fromBundleFile(file: string, clock: Clock): Promise<X509popAttestor> {
    const cas = pemCertificates(await readFile(file, 'utf8'));
    if (cas.length === 0) throw new EvidentError('BAD_INPUT', 'no PEM certificate', { file });
    return new X509popAttestor(cas, clock);
  }

  async attest(payload: Buffer, channel: ChallengeChannel): Promise<AttestationResult> {
    let certs: X509Certificate[];
    try {
      certs = parseX509popPayload(payload).map((der) => parseCertificateDer(der));
    } catch (e) {
      throw new AttestationError(`x509pop payload is malformed: ${(e as Error).message}`);
    }
    const leaf = certs[0]!;
    const path = this.verifyChain(leaf, certs.slice(1));
    const nonce = randomBytes(32);
    const answer = await channel.challenge(nonce);
    if (!verifyX509popAnswer(nonce, answer, openssl(leaf).publicKey)) {
      throw new AttestationError('x509pop challenge signature does not verify with the certificate key');
    }
    const fingerprint = sha1Hex(new Uint8Array(leaf.rawData));
    const selectors: Selector[] = [{ type: X509POP_TYPE, value: `fingerprint:${fingerprint}` }];
    const cn = leaf.subjectName.getField('CN')[0];
    if (cn !== undefined) selectors.push({ type: X509POP_TYPE, value: `subject:cn:${cn}` });
    for (const ca of path) selectors.push({ type: X509POP_TYPE, value: `ca:fingerprint:${sha1Hex(new Uint8Array(ca.rawData))}` });
    return { agentIdSuffix: fingerprint, selectors, canReattest: true };
  }

  /**
   * The CA certs from the leaf's issuer up to a trusted root, by the one X.509 path validation
   * (crypto/x509): every rule it enforces for signatures protects node attestation too.
   */
  private verifyChain(leaf: X509Certificate, intermediates: X509Certificate[]): X509Certificate[] {
    const time = new Date(this.clock.now());
    try {
      checkValidity(leaf, 'x509pop certificate', time);
    } catch {
      throw new AttestationError('x509pop certificate is not valid now');
    }
    if (isCa(leaf)) throw new AttestationError('x509pop certificate is a CA');
    try {
      const [path] = verifyCertificateChain(leaf, { intermediates, roots: this.roots, time });
      return path!.slice(1);
    } catch (e) {
      if (!(e instanceof X509ChainError)) throw e;
      throw new AttestationError(`x509pop certificate does not chain to a trusted CA: ${e.message}`);
    }
  }
}
