import type { X509Certificate } from '../../crypto/x509/x509.js';
import type { SpiffeId } from '../spiffeid/spiffe-id.js';
import type { X509BundleSource } from '../bundle/x509-bundle.js';
import { verifyCertificateChain, X509ChainError } from '../../crypto/x509/index.js';
import { NOT_TRUSTED, SpiffeError } from '../errors.js';
import { X509SvidError } from './errors.js';
import { checkIntermediates, checkLeaf, checkValidity, idFromCert } from './rules.js';
import { X509Svid } from './svid.js';

export interface VerifyOptions {
  /** The instant the chain must be valid at; now by default (tests freeze it). */
  time?: Date;
}

export interface VerifyResult {
  id: SpiffeId;
  /** Every path from the leaf to a root of the trust domain's bundle, leaf first, root last. */
  verifiedChains: X509Certificate[][];
}

/**
 * Verifies an X509-SVID chain (leaf first, then intermediates) against the X.509 bundle of the
 * SVID's OWN trust domain, as go-spiffe's `x509svid.Verify`: exactly one URI SAN that is a SPIFFE ID;
 * the leaf not a CA, with digitalSignature and without keyCertSign/cRLSign; the intermediates CAs;
 * every certificate valid at `time`; signatures chaining to a root of that bundle, within path-length
 * limits. Each broken rule throws an X509SvidError with its own `reason` (code BAD_SIGNATURE: exit 1).
 *
 * @example
 * const { id } = verify(svid.certificates, bundleSet, { time: new Date() });
 */
export function verify(
  chain: readonly X509Certificate[] | X509Svid,
  bundleSource: X509BundleSource,
  options: VerifyOptions = {},
): VerifyResult {
  const certs = chain instanceof X509Svid ? chain.certificates : chain;
  const time = options.time ?? new Date();
  const [leaf, ...intermediates] = certs;
  if (leaf === undefined) throw new X509SvidError('NO_CERTIFICATES', 'empty certificates chain', { code: NOT_TRUSTED });
  const id = idFromCert(leaf, NOT_TRUSTED);
  checkLeaf(leaf, NOT_TRUSTED);
  checkIntermediates(intermediates, NOT_TRUSTED);
  checkValidity(leaf, 'leaf certificate', time, NOT_TRUSTED);
  intermediates.forEach((c, i) => checkValidity(c, `intermediate #${i + 1} (${c.subject})`, time, NOT_TRUSTED));
  const roots = rootsFor(id, bundleSource);
  const verifiedChains = buildChains(leaf, intermediates, roots, time);
  return { id, verifiedChains };
}

function rootsFor(id: SpiffeId, bundleSource: X509BundleSource): readonly X509Certificate[] {
  try {
    return bundleSource.getX509BundleForTrustDomain(id.trustDomain).authorities;
  } catch (e) {
    if (!(e instanceof SpiffeError)) throw e;
    throw new X509SvidError('NO_BUNDLE', `could not get X509 bundle: ${e.message}`, { code: NOT_TRUSTED, cause: e });
  }
}

/** The path building is generic X.509 (crypto/x509); its refusals are reported as this module's. */
function buildChains(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  time: Date,
): X509Certificate[][] {
  try {
    return verifyCertificateChain(leaf, { intermediates, roots, time });
  } catch (e) {
    if (!(e instanceof X509ChainError)) throw e;
    if (e.reason === 'UNKNOWN_AUTHORITY') {
      throw new X509SvidError('UNTRUSTED_CHAIN', `could not verify leaf certificate: ${e.message}`, { code: NOT_TRUSTED, cause: e });
    }
    throw new X509SvidError(e.reason, e.message, { code: e.reason === 'BAD_CERTIFICATE' ? 'BAD_INPUT' : NOT_TRUSTED, cause: e });
  }
}
