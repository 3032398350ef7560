import type { X509Certificate } from '../internal/x509.js';
import type { SpiffeId } from '../spiffeid/spiffe-id.js';
import type { X509BundleSource } from '../bundle/x509-bundle.js';
import { nodeCert } from '../internal/certs.js';
import { NOT_TRUSTED, SpiffeError } from '../errors.js';
import { X509SvidError } from './errors.js';
import { checkIntermediates, checkLeaf, checkValidity, idFromCert, pathLength } from './rules.js';
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

const MAX_CHAIN_DEPTH = 10;

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
export function verify(chain: readonly X509Certificate[] | X509Svid, bundleSource: X509BundleSource, options: VerifyOptions = {}): VerifyResult {
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

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  const c = nodeCert(child);
  const p = nodeCert(parent);
  // checkIssued compares names, key identifiers and the issuer's key usage; verify checks the signature.
  return c.checkIssued(p) && c.verify(p.publicKey);
}

/** A CA at depth k (k-1 CAs below it, the leaf excluded) must allow a path length of at least k-1. */
function pathLengthOk(chain: readonly X509Certificate[]): boolean {
  return chain.every((cert, k) => {
    if (k === 0) return true;
    const max = pathLength(cert);
    return max === undefined || k - 1 <= max;
  });
}

function buildChains(leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[], time: Date): X509Certificate[][] {
  const found: X509Certificate[][] = [];
  let rejection: X509SvidError | undefined;
  const walk = (path: X509Certificate[]): void => {
    const cert = path[path.length - 1] as X509Certificate;
    for (const root of roots) {
      if (!issuedBy(cert, root)) continue;
      const candidate = [...path, root];
      try {
        checkValidity(root, `root (${root.subject})`, time, NOT_TRUSTED);
      } catch (e) {
        rejection = e as X509SvidError;
        continue;
      }
      if (!pathLengthOk(candidate)) {
        rejection = new X509SvidError('PATH_LEN_EXCEEDED', 'path length constraint exceeded', { code: NOT_TRUSTED });
        continue;
      }
      found.push(candidate);
    }
    if (path.length > MAX_CHAIN_DEPTH) return;
    for (const next of intermediates) {
      if (!path.includes(next) && issuedBy(cert, next)) walk([...path, next]);
    }
  };
  walk([leaf]);
  if (found.length > 0) return found;
  throw rejection ?? new X509SvidError('UNTRUSTED_CHAIN', 'could not verify leaf certificate: certificate signed by unknown authority', { code: NOT_TRUSTED });
}
