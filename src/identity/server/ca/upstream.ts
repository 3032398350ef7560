import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EvidentError, badInput } from '../../../errors.js';
import { isCa, parseCertificateDer, pemCertificates } from '../../../crypto/x509/index.js';
import type { X509Certificate } from '../../../crypto/x509/x509.js';
import type { CaAuthority } from './authority.js';
import { loadSigningKey } from './keys.js';

/**
 * An upstream CA the server's CA is an intermediate of. The cert file holds the upstream signing cert
 * first, then its chain; the last cert is the trust anchor published in the bundle (with a single cert,
 * that cert is both).
 */
export interface UpstreamCa extends CaAuthority {
  /** The bundle's X.509 authorities. */
  roots: Buffer[];
}

export async function loadUpstreamCa(certFile: string, keyFile: string): Promise<UpstreamCa> {
  const certs = pemCertificates(await readFile(certFile, 'utf8'));
  if (certs.length === 0) throw badInput('no PEM certificate', certFile);
  const key = await loadSigningKey(await readFile(keyFile, 'utf8'), 'upstream CA key').catch((e: unknown) => {
    throw e instanceof EvidentError ? e.inFile(keyFile) : e;
  });
  let cert: X509Certificate;
  try {
    cert = parseCertificateDer(certs[0]!);
  } catch (e) {
    throw badInput(`not an X.509 certificate: ${(e as Error).message}`, certFile);
  }
  if (!isCa(cert)) throw badInput('upstream certificate is not a CA (basicConstraints cA is not true)', certFile);
  const certSpki = Buffer.from(cert.publicKey.rawData);
  const keySpki = createPublicKey(key.keyObject).export({ format: 'der', type: 'spki' });
  if (!certSpki.equals(keySpki)) throw badInput('upstream key does not match the upstream certificate', keyFile);
  // with one cert it is the anchor itself; with more, all but the last travel in SVID chains
  const chain = certs.length > 1 ? certs.slice(0, -1) : [];
  return { cert, key, chain, roots: [certs[certs.length - 1]!] };
}
