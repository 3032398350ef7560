import { certificatesToPem, openssl, parseCertificateDer } from '../../../crypto/x509/index.js';

/** The trust domain's published keys: X.509 roots (DER) and JWT signing keys (JWKs with `kid`). */
export interface TrustBundle {
  trustDomain: string;
  x509Authorities: Buffer[];
  jwtAuthorities: JwtAuthority[];
  sequence: number;
  /** Seconds after which consumers should fetch again. */
  refreshHint: number;
}

export interface JwtAuthority {
  kid: string;
  /** Public JWK (kty, crv, x, y / n, e), without `kid` or `use`. */
  jwk: Record<string, unknown>;
  /** When the key stops being published (ms). */
  expiresAt: number;
}

/** The bundle as concatenated PEM certificates (what `bundle show --format pem` prints). */
export function bundleToPem(b: TrustBundle): string {
  return certificatesToPem(b.x509Authorities);
}

/**
 * The bundle in the SPIFFE bundle format: a JWKS whose X.509 keys carry `use: x509-svid` and `x5c`, and
 * JWT keys `use: jwt-svid` and `kid`, plus `spiffe_sequence` and `spiffe_refresh_hint`.
 */
export function bundleToSpiffeJson(b: TrustBundle): Record<string, unknown> {
  const x509Keys = b.x509Authorities.map((der) => {
    const jwk = openssl(parseCertificateDer(der)).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    return { ...jwk, use: 'x509-svid', x5c: [der.toString('base64')] };
  });
  const jwtKeys = b.jwtAuthorities.map((a) => ({ ...a.jwk, use: 'jwt-svid', kid: a.kid }));
  return { keys: [...x509Keys, ...jwtKeys], spiffe_sequence: b.sequence, spiffe_refresh_hint: b.refreshHint };
}
