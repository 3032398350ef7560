import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EvidentError } from '../../errors.js';
import { JwtBundle } from '../../spiffe/bundle/jwt-bundle.js';
import { TrustDomain } from '../../spiffe/spiffeid/trust-domain.js';
import type { Bundle } from '../proto/messages.js';
import type { TrustBundles } from './workloadapi/source.js';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** DER certificates of a PEM file (one or more CERTIFICATE blocks). */
export function pemCertificates(text: string): Buffer[] {
  return [...text.matchAll(CERT_BLOCK)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
}

export function derToPem(ders: readonly Buffer[]): string {
  return ders.map((d) => `-----BEGIN CERTIFICATE-----\n${d.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`).join('');
}

/** The trust domain a CA certificate serves: its `spiffe://td` URI SAN, if it has one. */
export function trustDomainOfCa(der: Buffer): string | undefined {
  const san = new X509Certificate(der).subjectAltName ?? '';
  const uri = san.split(', ').find((s) => s.startsWith('URI:spiffe://'));
  return uri === undefined ? undefined : TrustDomain.parse(uri.slice(4)).name;
}

/**
 * The roots the agent trusts the server with at first contact (`--trust-bundle`, PEM, e.g. from
 * `evident server bundle show`), and the trust domain they name.
 */
export async function readTrustBundleFile(path: string): Promise<{ roots: Buffer[]; trustDomain: string | undefined }> {
  const roots = pemCertificates(await readFile(path, 'utf8'));
  if (roots.length === 0) throw new EvidentError('BAD_INPUT', 'no PEM certificate in the trust bundle', { file: path });
  let trustDomain: string | undefined;
  for (const r of roots) {
    try {
      trustDomain ??= trustDomainOfCa(r);
    } catch (e) {
      throw new EvidentError('BAD_INPUT', `a certificate of the trust bundle does not parse: ${(e as Error).message}`, { file: path, cause: e });
    }
  }
  return { roots, trustDomain };
}

/** The server's bundle as the Workload API serves it: DER roots, and a JWKS whose keys carry their `kid`. */
export function trustBundlesFromProto(b: Bundle): TrustBundles {
  const td = TrustDomain.parse(b.trust_domain);
  const jwt = JwtBundle.fromAuthorities(td, new Map(b.jwt_authorities.map((a) => [a.kid, createPublicKey({ key: a.public_key, format: 'der', type: 'spki' })])));
  return {
    trustDomainId: td.idString(),
    x509: new Map([[td.idString(), Buffer.concat(b.x509_authorities)]]),
    jwt: new Map([[td.idString(), jwt.marshal()]]),
  };
}
