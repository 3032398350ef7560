import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseCertificateDer } from '../../crypto/x509/index.js';
import type { X509Certificate } from '../../crypto/x509/x509.js';
import type { TrustDomain } from '../spiffeid/trust-domain.js';
import { certDer, nodeCert } from '../internal/certs.js';
import { spkiDer } from '../internal/keys.js';
import { NOT_TRUSTED, SpiffeError } from '../errors.js';
import { BundleError } from './errors.js';
import { importPublicJwk, JwtBundle, publicJwk, type JwtBundleSource } from './jwt-bundle.js';
import { X509Bundle, type X509BundleSource } from './x509-bundle.js';

const X509_SVID_USE = 'x509-svid';
const JWT_SVID_USE = 'jwt-svid';

export interface SpiffeBundleContents {
  x509Authorities?: readonly X509Certificate[];
  jwtAuthorities?: ReadonlyMap<string, KeyObject>;
  /** `spiffe_sequence`: increases with every change of the bundle. */
  sequenceNumber?: number;
  /** `spiffe_refresh_hint`, in seconds: how often consumers should poll. */
  refreshHint?: number;
}

/**
 * A trust domain's bundle in the SPIFFE bundle format (SPIFFE Trust Domain and Bundle §4): a JWKS
 * whose keys have `use` `x509-svid` (with one certificate in `x5c`) or `jwt-svid` (with a `kid`),
 * plus `spiffe_sequence` and `spiffe_refresh_hint`. Keys with a missing or unknown `use` are ignored,
 * as the standard requires. Immutable.
 *
 * @example
 * const b = SpiffeBundle.parse(td, json);
 * b.toX509Bundle().authorities; b.toJwtBundle().findAuthority('kid1');
 */
export class SpiffeBundle implements X509BundleSource, JwtBundleSource {
  readonly x509Authorities: readonly X509Certificate[];
  readonly jwtAuthorities: ReadonlyMap<string, KeyObject>;
  readonly sequenceNumber: number | undefined;
  readonly refreshHint: number | undefined;

  private constructor(
    readonly trustDomain: TrustDomain,
    c: SpiffeBundleContents,
  ) {
    this.x509Authorities = Object.freeze([...(c.x509Authorities ?? [])]);
    this.jwtAuthorities = new Map(c.jwtAuthorities ?? []);
    this.sequenceNumber = c.sequenceNumber;
    this.refreshHint = c.refreshHint;
  }

  static create(td: TrustDomain, contents: SpiffeBundleContents = {}): SpiffeBundle {
    checkUint('spiffe_sequence', contents.sequenceNumber, 'BAD_SEQUENCE');
    checkUint('spiffe_refresh_hint', contents.refreshHint, 'BAD_REFRESH_HINT');
    return new SpiffeBundle(td, contents);
  }

  static fromX509Bundle(b: X509Bundle): SpiffeBundle {
    return new SpiffeBundle(b.trustDomain, { x509Authorities: b.authorities });
  }

  static fromJwtBundle(b: JwtBundle): SpiffeBundle {
    return new SpiffeBundle(b.trustDomain, { jwtAuthorities: b.authorities });
  }

  static parse(td: TrustDomain, data: Uint8Array | string): SpiffeBundle {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new BundleError('spiffebundle', 'BAD_JWKS', `unable to parse JWKS: ${(e as Error).message}`, { cause: e });
    }
    if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
      throw new BundleError('spiffebundle', 'BAD_JWKS', 'unable to parse JWKS: missing "keys" array');
    }
    const d = doc as { keys: unknown[]; spiffe_sequence?: unknown; spiffe_refresh_hint?: unknown };
    const x509Authorities: X509Certificate[] = [];
    const jwtAuthorities = new Map<string, KeyObject>();
    d.keys.forEach((jwk, i) => {
      const where = `key #${i}`;
      const use = (jwk as { use?: unknown } | null)?.use;
      if (use === X509_SVID_USE) x509Authorities.push(parseX509Key(jwk as Record<string, unknown>, where));
      else if (use === JWT_SVID_USE) {
        const kid = (jwk as { kid?: unknown }).kid;
        if (typeof kid !== 'string' || kid === '') throw new BundleError('spiffebundle', 'MISSING_KID', `${where}: missing key ID ("kid")`);
        if (jwtAuthorities.has(kid)) throw new BundleError('spiffebundle', 'DUPLICATE_KID', `${where}: duplicate key ID "${kid}"`);
        jwtAuthorities.set(kid, importPublicJwk(jwk, where, 'spiffebundle'));
      }
    });
    return SpiffeBundle.create(td, {
      x509Authorities,
      jwtAuthorities,
      sequenceNumber: d.spiffe_sequence as number | undefined,
      refreshHint: d.spiffe_refresh_hint as number | undefined,
    });
  }

  static async load(td: TrustDomain, path: string): Promise<SpiffeBundle> {
    try {
      return SpiffeBundle.parse(td, await readFile(path));
    } catch (e) {
      throw e instanceof SpiffeError ? e.inFile(path) : e;
    }
  }

  toX509Bundle(): X509Bundle {
    return X509Bundle.fromAuthorities(this.trustDomain, this.x509Authorities);
  }

  toJwtBundle(): JwtBundle {
    return JwtBundle.fromAuthorities(this.trustDomain, this.jwtAuthorities);
  }

  /** The SPIFFE bundle JSON document. */
  marshal(): string {
    const keys: Record<string, unknown>[] = [];
    for (const cert of this.x509Authorities) {
      keys.push({ ...publicJwk(nodeCert(cert).publicKey), use: X509_SVID_USE, x5c: [certDer(cert).toString('base64')] });
    }
    for (const [kid, key] of this.jwtAuthorities) keys.push({ ...publicJwk(key), use: JWT_SVID_USE, kid });
    const doc: Record<string, unknown> = { keys };
    if (this.sequenceNumber !== undefined) doc['spiffe_sequence'] = this.sequenceNumber;
    if (this.refreshHint !== undefined) doc['spiffe_refresh_hint'] = this.refreshHint;
    return JSON.stringify(doc, null, 2);
  }

  getX509BundleForTrustDomain(td: TrustDomain): X509Bundle {
    if (!td.equals(this.trustDomain)) {
      throw new BundleError('spiffebundle', 'NOT_FOUND', `no X.509 bundle for trust domain "${td}"`, { code: NOT_TRUSTED });
    }
    return this.toX509Bundle();
  }

  getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle {
    if (!td.equals(this.trustDomain)) {
      throw new BundleError('spiffebundle', 'NOT_FOUND', `no JWT bundle for trust domain "${td}"`, { code: NOT_TRUSTED });
    }
    return this.toJwtBundle();
  }
}

function parseX509Key(jwk: Record<string, unknown>, where: string): X509Certificate {
  const x5c = jwk['x5c'];
  if (!Array.isArray(x5c) || x5c.length !== 1 || typeof x5c[0] !== 'string') {
    throw new BundleError('spiffebundle', 'BAD_X5C', `${where}: expected exactly one certificate in "x5c"`);
  }
  const der = Buffer.from(x5c[0], 'base64');
  let cert: X509Certificate;
  try {
    cert = parseCertificateDer(der); // read whole, by OpenSSL too, which rejects what @peculiar/x509 might tolerate
  } catch (e) {
    throw new BundleError('spiffebundle', 'BAD_X5C', `${where}: unable to parse the certificate in "x5c"`, { cause: e });
  }
  // The JWK's own key members must describe the certificate's key, or the document is inconsistent.
  const key = importPublicJwk(jwk, where, 'spiffebundle');
  if (!spkiDer(key).equals(spkiDer(nodeCert(cert).publicKey))) {
    throw new BundleError('spiffebundle', 'BAD_JWK', `${where}: key does not match the certificate in "x5c"`);
  }
  return cert;
}

function checkUint(name: string, v: unknown, reason: 'BAD_SEQUENCE' | 'BAD_REFRESH_HINT'): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new BundleError('spiffebundle', reason, `"${name}" must be a non-negative integer`);
  }
}
