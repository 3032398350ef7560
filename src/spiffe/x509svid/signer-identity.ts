import { PublicKey } from '../../crypto/keys.js';
import { SpiffeError } from '../errors.js';
import { nodeCert, parseCertificates } from '../internal/certs.js';
import type { X509BundleSource } from '../bundle/x509-bundle.js';
import type { SpiffeId } from '../spiffeid/spiffe-id.js';
import { idFromCert } from './rules.js';
import { verify } from './verify.js';

/**
 * The key of a certificate chain that is an SVID of the identity, and the last instant up to now that the
 * whole chain was valid (now, if it still is); or why it is not one.
 */
export type SignerCertification = { ok: true; publicKey: PublicKey; notAfter: Date } | { ok: false; why: string };

/**
 * A workload's identity as a signer: which certificate chains (carried in a signature's `cert`) are SVIDs
 * of it, including ones it held before its SVID was renewed. `record stop` uses it to recognise the
 * preliminary link `record start` signed with an earlier SVID.
 */
export interface SvidIdentity {
  /** How messages name it: `an SVID of spiffe://…`. */
  readonly description: string;
  certify(certificatePem: string, now: Date): SignerCertification;
}

/**
 * The identity of the workload holding `id` under `bundles` (the Workload API's, at the time of asking).
 * A chain is one of its SVIDs when its leaf names exactly `id` and the chain verifies against the bundle of
 * `id`'s trust domain at some instant up to `now`: now while it is valid, else the last instant it was
 * (the first expiry in the chain; an SVID never outlives its CA). How long ago that may be is the caller's
 * to decide (`notAfter`), since only it knows when the signature can have been made.
 */
export function svidIdentity(id: SpiffeId, bundles: X509BundleSource): SvidIdentity {
  return {
    description: `an SVID of ${id.toString()}`,
    certify: (certificatePem, now) => certifySvid(certificatePem, id, bundles, now),
  };
}

function certifySvid(certificatePem: string, id: SpiffeId, bundles: X509BundleSource, now: Date): SignerCertification {
  try {
    const chain = parseCertificates(certificatePem, 'x509svid');
    const leaf = chain[0]!;
    // said before the chain is checked: a certificate of another identity is the likelier mistake
    const named = idFromCert(leaf, 'BAD_SIGNATURE');
    if (!named.equals(id)) return { ok: false, why: `its certificate names ${named.toString()}` };
    // the last instant it can have signed: now, or when the first certificate of the chain expired
    const lastValid = Math.min(now.getTime(), ...chain.map((c) => c.notAfter.getTime()));
    verify(chain, bundles, { time: new Date(lastValid) });
    return { ok: true, publicKey: PublicKey.fromKeyObject(nodeCert(leaf).publicKey), notAfter: new Date(lastValid) };
  } catch (e) {
    if (!(e instanceof SpiffeError)) throw e;
    return { ok: false, why: refusal(e, id) };
  }
}

function refusal(e: SpiffeError, id: SpiffeId): string {
  if (e.reason === 'UNTRUSTED_CHAIN' || e.reason === 'NO_BUNDLE') {
    return `its certificate does not chain to the trust bundle of ${id.trustDomain.toString()} (${e.message})`;
  }
  return `its certificate is not a valid X509-SVID (${e.message})`;
}
