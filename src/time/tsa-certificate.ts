import { createPublicKey, type KeyObject } from 'node:crypto';
import { badInput } from '../errors.js';
import { ExtendedKeyUsageExtension, KeyUsageFlags, KeyUsagesExtension, type X509Certificate } from '../crypto/x509/x509.js';
import { id_kp_timeStamping } from './asn1.js';
import type { TsaSigner } from './token-signer.js';

/** The key usages a TSA certificate may list, when it lists any (OpenSSL's time-stamp-signing purpose). */
const TSA_KEY_USAGES = KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation;

/**
 * Why `cert` may not sign time-stamp tokens, or undefined when it may. RFC 3161 §2.3: its extended key
 * usage is `timeStamping` and nothing else, and the extension is critical. As OpenSSL checks it, a
 * key usage, when present, allows signing (digitalSignature or nonRepudiation) and nothing beyond.
 */
export function tsaCertificateProblem(cert: X509Certificate): string | undefined {
  const eku = cert.getExtension(ExtendedKeyUsageExtension);
  if (eku === null) return 'the certificate has no extended key usage; a TSA certificate needs timeStamping (critical)';
  const usages = eku.usages.map(String);
  if (usages.length !== 1 || usages[0] !== id_kp_timeStamping) {
    return `the certificate's extended key usage must be timeStamping alone, not ${usages.join(', ') || 'empty'}`;
  }
  if (!eku.critical) return "the certificate's extended key usage timeStamping is not critical (RFC 3161 §2.3)";
  const ku = cert.getExtension(KeyUsagesExtension);
  if (ku !== null && ((ku.usages & TSA_KEY_USAGES) === 0 || (ku.usages & ~TSA_KEY_USAGES) !== 0)) {
    return "the certificate's key usage must be digitalSignature or nonRepudiation only";
  }
  return undefined;
}

/**
 * A TSA's signer from its key and its certificate chain, checked: the first certificate certifies the
 * key and may sign time-stamps (critical timeStamping, alone). The identity server builds one from
 * the key and certificate its CA issued; `evident tsa serve` from files (`loadTsaSigner`).
 *
 * @throws EvidentError BAD_INPUT saying what is wrong with the certificate
 */
export function tsaSigner(privateKey: KeyObject, chain: readonly X509Certificate[]): TsaSigner {
  const [cert] = chain;
  if (cert === undefined) throw badInput('a TSA needs its certificate (the chain is empty)');
  const problem = tsaCertificateProblem(cert);
  if (problem !== undefined) throw badInput(problem);
  const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  if (!publicKey.equals(Buffer.from(cert.publicKey.rawData))) throw badInput("the first certificate does not certify the TSA's key");
  return { privateKey, chain };
}
