import { X509ChainError } from './errors.js';
import { openssl } from './openssl.js';
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, type X509Certificate } from './x509.js';

export interface ChainOptions {
  /** Certificates that may sit between the leaf and a root (the leaf's own, a layout's); unused ones are ignored. */
  readonly intermediates?: readonly X509Certificate[];
  /** The trust anchors: a path must end at one of them. */
  readonly roots: readonly X509Certificate[];
  /** The instant every certificate of a path must be valid at. */
  readonly time: Date;
}

/** Longer paths are not explored: real PKIs have two or three levels, a pool of 10⁴ could loop for long. */
const MAX_DEPTH = 10;

/**
 * Every path from `leaf` through `intermediates` to one of `roots` that is valid at `time`, leaf first
 * and root last, as Go's `x509.Certificate.Verify` builds them: each certificate is issued (name and
 * signature) by the next; the leaf, each intermediate and the root are within their validity period;
 * every certificate above the leaf is a CA (basicConstraints cA), may sign certificates when it lists
 * key usages, and allows the path length below it. Leaf rules beyond validity (a SPIFFE leaf must not
 * be a CA, …) are the caller's.
 *
 * @example const [path] = verifyCertificateChain(leaf, { intermediates, roots, time: new Date() });
 * @throws X509ChainError (code BAD_SIGNATURE) saying why no path exists; when several reasons apply, the
 *   one met furthest along a path (an expired root says more than an unrelated root's wrong name).
 */
export function verifyCertificateChain(leaf: X509Certificate, options: ChainOptions): X509Certificate[][] {
  checkValidity(leaf, 'leaf certificate', options.time);
  const intermediates = options.intermediates ?? [];
  const found: X509Certificate[][] = [];
  let rejection: X509ChainError | undefined;
  const walk = (path: X509Certificate[]): void => {
    const cert = path[path.length - 1]!;
    for (const root of options.roots) {
      if (!issuedBy(cert, root)) continue;
      const problem = caProblem(root, `root (${root.subject})`, path.length, options.time, true);
      if (problem !== undefined) rejection = problem;
      else found.push([...path, root]);
    }
    if (path.length > MAX_DEPTH) return;
    for (const next of intermediates) {
      if (path.some((c) => sameCertificate(c, next)) || options.roots.some((r) => sameCertificate(r, next))) continue;
      if (!issuedBy(cert, next)) continue;
      const problem = caProblem(next, `intermediate (${next.subject})`, path.length, options.time, false);
      if (problem !== undefined) rejection = problem;
      else walk([...path, next]);
    }
  };
  walk([leaf]);
  if (found.length > 0) return found;
  throw rejection ?? new X509ChainError('UNKNOWN_AUTHORITY', 'certificate signed by unknown authority');
}

/** Whether the certificate says it is a CA (basicConstraints cA true). */
export function isCa(cert: X509Certificate): boolean {
  return cert.getExtension(BasicConstraintsExtension)?.ca === true;
}

/**
 * Why `cert` cannot act as a CA at `depth` (the number of certificates below it, the leaf included),
 * or undefined when it can. A trust anchor is trusted as given, as Go does: only an intermediate must
 * say it is a CA.
 */
function caProblem(cert: X509Certificate, which: string, depth: number, time: Date, anchor: boolean): X509ChainError | undefined {
  const constraints = cert.getExtension(BasicConstraintsExtension);
  if (!anchor && constraints?.ca !== true) return new X509ChainError('INTERMEDIATE_NOT_CA', `${which} is not a CA`);
  const usages = cert.getExtension(KeyUsagesExtension)?.usages;
  if (usages !== undefined && (usages & KeyUsageFlags.keyCertSign) === 0) {
    return new X509ChainError('INTERMEDIATE_MISSING_KEY_CERT_SIGN', `${which} lacks keyCertSign key usage`);
  }
  // pathLength counts the CAs that may follow below this one; the leaf is not one of them
  if (constraints?.pathLength !== undefined && depth - 1 > constraints.pathLength) {
    return new X509ChainError('PATH_LEN_EXCEEDED', 'path length constraint exceeded');
  }
  try {
    checkValidity(cert, which, time);
  } catch (e) {
    return e as X509ChainError;
  }
  return undefined;
}

/** A certificate's validity window must contain `time` (both ends included, as in RFC 5280). */
export function checkValidity(cert: X509Certificate, which: string, time: Date): void {
  if (time.getTime() > cert.notAfter.getTime()) {
    throw new X509ChainError('CERT_EXPIRED', `${which} expired at ${cert.notAfter.toISOString()}`);
  }
  if (time.getTime() < cert.notBefore.getTime()) {
    throw new X509ChainError('CERT_NOT_YET_VALID', `${which} is not valid before ${cert.notBefore.toISOString()}`);
  }
}

/** checkIssued compares names, key identifiers and the issuer's key usage; verify checks the signature. */
export function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  const c = openssl(child);
  const p = openssl(parent);
  return c.checkIssued(p) && c.verify(p.publicKey);
}

function sameCertificate(a: X509Certificate, b: X509Certificate): boolean {
  return a === b || Buffer.from(a.rawData).equals(Buffer.from(b.rawData));
}
