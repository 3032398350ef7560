import { X509ChainError } from './errors.js';
import { X509Certificate } from './x509.js';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/**
 * The certificates of a PEM text, in order (a signature's `cert`: the leaf, then its intermediates).
 * Text outside the blocks is ignored, as OpenSSL and Go do.
 *
 * @example const [leaf, ...intermediates] = parseCertificatesPem(signature.cert);
 * @throws X509ChainError BAD_CERTIFICATE when there is no certificate or one cannot be parsed
 */
export function parseCertificatesPem(text: string): X509Certificate[] {
  const blocks = [...text.matchAll(CERTIFICATE_BLOCK)];
  if (blocks.length === 0) throw new X509ChainError('BAD_CERTIFICATE', 'holds no PEM certificate');
  return blocks.map((m, i) => {
    try {
      return new X509Certificate(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
    } catch (e) {
      throw new X509ChainError('BAD_CERTIFICATE', `certificate #${i + 1} cannot be parsed (${(e as Error).message})`, { cause: e });
    }
  });
}
