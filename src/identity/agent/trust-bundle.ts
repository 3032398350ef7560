import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EvidentError } from '../../errors.js';
import { certificateAttributes, parseCertificateDer, pemCertificates } from '../../crypto/x509/index.js';
import { JwtBundle } from '../../spiffe/bundle/jwt-bundle.js';
import { TrustDomain } from '../../spiffe/spiffeid/trust-domain.js';
import type { Bundle } from '../proto/messages.js';
import type { TrustBundles } from './workloadapi/source.js';

/** The trust domain a CA certificate serves: its `spiffe://td` URI SAN, if it has one. Throws if the certificate does not parse. */
export function trustDomainOfCa(der: Buffer): string | undefined {
  const uri = certificateAttributes(parseCertificateDer(der)).uris.find((u) => u.startsWith('spiffe://'));
  return uri === undefined ? undefined : TrustDomain.parse(uri).name;
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
      throw new EvidentError('BAD_INPUT', `a certificate of the trust bundle does not parse: ${(e as Error).message}`, {
        file: path,
        cause: e,
      });
    }
  }
  return { roots, trustDomain };
}

/** The server's bundle as the Workload API serves it: DER roots, and a JWKS whose keys carry their `kid`. */
export function trustBundlesFromProto(b: Bundle): TrustBundles {
  const td = TrustDomain.parse(b.trust_domain);
  const jwt = JwtBundle.fromAuthorities(
    td,
    new Map(b.jwt_authorities.map((a) => [a.kid, createPublicKey({ key: a.public_key, format: 'der', type: 'spki' })])),
  );
  return {
    trustDomainId: td.idString(),
    x509: new Map([[td.idString(), Buffer.concat(b.x509_authorities)]]),
    jwt: new Map([[td.idString(), jwt.marshal()]]),
  };
}
