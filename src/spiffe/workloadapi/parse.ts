import { TrustDomain } from '../spiffeid/trust-domain.js';
import { X509Bundle } from '../bundle/x509-bundle.js';
import { JwtBundle } from '../bundle/jwt-bundle.js';
import { JwtBundleSet, X509BundleSet } from '../bundle/set.js';
import { X509Svid } from '../x509svid/svid.js';
import { X509SvidError } from '../x509svid/errors.js';
import { badResponse } from './errors.js';
import type { JWTBundlesResponseMessage, X509BundlesResponseMessage, X509SVIDResponseMessage } from './proto.js';

/**
 * What FetchX509SVID delivers: the caller's SVIDs (the first is the default identity) and the X.509
 * bundles of its own and federated trust domains.
 */
export interface X509Context {
  svids: readonly X509Svid[];
  bundles: X509BundleSet;
}

/** Parses one FetchX509SVID message; anything malformed is a BAD_RESPONSE error, never a crash. */
export function parseX509Context(msg: X509SVIDResponseMessage): X509Context {
  if (msg.svids.length === 0) throw badResponse('X.509-SVID response', new Error('no SVIDs in response'));
  const bundles: X509Bundle[] = [];
  const svids = msg.svids.map((s, i) => {
    try {
      const svid = X509Svid.parse(s.x509_svid, s.x509_svid_key, { hint: s.hint });
      if (svid.id.toString() !== s.spiffe_id) {
        throw new X509SvidError('ID_MISMATCH', `SVID #${i + 1} is for "${svid.id}" but the response says "${s.spiffe_id}"`);
      }
      bundles.push(X509Bundle.parse(svid.id.trustDomain, s.bundle));
      return svid;
    } catch (e) {
      throw badResponse(`X.509-SVID #${i + 1}`, e);
    }
  });
  for (const [key, der] of Object.entries(msg.federated_bundles)) bundles.push(parseX509BundleEntry(key, der, 'federated bundle'));
  // The SVIDs' own bundles win over a federated entry for the same trust domain.
  return { svids, bundles: X509BundleSet.of([...bundles.slice(svids.length), ...bundles.slice(0, svids.length)]) };
}

function parseX509BundleEntry(key: string, der: Buffer, what: string): X509Bundle {
  try {
    return X509Bundle.parse(TrustDomain.parse(key), der);
  } catch (e) {
    throw badResponse(`${what} "${key}"`, e);
  }
}

export function parseX509Bundles(msg: X509BundlesResponseMessage): X509BundleSet {
  return X509BundleSet.of(Object.entries(msg.bundles).map(([key, der]) => parseX509BundleEntry(key, der, 'X.509 bundle')));
}

export function parseJwtBundles(msg: JWTBundlesResponseMessage): JwtBundleSet {
  return JwtBundleSet.of(
    Object.entries(msg.bundles).map(([key, jwks]) => {
      try {
        return JwtBundle.parse(TrustDomain.parse(key), jwks);
      } catch (e) {
        throw badResponse(`JWT bundle "${key}"`, e);
      }
    }),
  );
}
