import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { PrivateKey } from '../crypto/keys.js';
import { CertificateSigner } from '../crypto/signer.js';
import { EvidentError } from '../errors.js';

/**
 * `-k KEY --cert CERT` (in-toto-golang's `run -k KEY -c CERT`): the key signs, and each signature entry
 * carries the certificate file's PEM (the leaf first, then any intermediates), so a verifier checks the
 * signer by its certificate against the layout's `rootcas`. The leaf must be the key's own certificate.
 *
 * @throws EvidentError BAD_INPUT naming the file: not a certificate, or the certificate of another key
 */
export async function certificateKeySigner(key: PrivateKey, certFile: string, cwd: string): Promise<CertificateSigner> {
  let text: string;
  let leaf: X509Certificate;
  try {
    text = await readFile(resolve(cwd, certFile), 'utf8');
    const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text);
    if (first === null) throw new Error('holds no PEM certificate');
    leaf = new X509Certificate(first[0]);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new EvidentError('BAD_INPUT', `--cert: ${reason}`, { file: certFile });
  }
  if (!leaf.checkPrivateKey(key.keyObject)) {
    throw new EvidentError('BAD_INPUT', '--cert: this is not the certificate of the signing key (-k)', { file: certFile });
  }
  return new CertificateSigner(key, text, new Date(leaf.validTo));
}
