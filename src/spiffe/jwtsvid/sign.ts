import type { KeyObject } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { SpiffeId } from '../spiffeid/spiffe-id.js';
import { toKeyObject, type AnyKey } from '../internal/keys.js';
import { defaultAlgorithm, isAllowedAlgorithm, type JwtSvidAlgorithm } from './algorithms.js';
import { JwtSvidError } from './errors.js';

export interface SignJwtSvidOptions {
  id: SpiffeId;
  audience: string | readonly string[];
  /** The trust domain's JWT signing key: EC P-256/384/521 or RSA (KeyObject or CryptoKey). */
  key: AnyKey;
  /** The key's ID in the trust domain's JWT bundle (required: validators look the key up by it). */
  kid: string;
  /** Default by key type: ES256/ES384/ES512 or RS256. */
  alg?: JwtSvidAlgorithm;
  now?: Date;
  /** Lifetime in seconds (default 300) unless `expiresAt` is given. */
  ttlSeconds?: number;
  expiresAt?: Date;
  /** Extra claims; they cannot override sub, aud, exp or iat. */
  claims?: JWTPayload;
  typ?: 'JWT' | 'JOSE';
}

/**
 * Signs a JWT-SVID (JWT-SVID standard): header `alg`, `kid`, `typ`; claims `sub`, `aud`, `exp`, `iat`.
 *
 * @example
 * const token = await signJwtSvid({ id, audience: 'spiffe://example.org/api', key: jwtKey.privateKey, kid: 'k1' });
 */
export async function signJwtSvid(o: SignJwtSvidOptions): Promise<string> {
  const key: KeyObject = toKeyObject(o.key);
  if (key.type !== 'private') throw new JwtSvidError('BAD_KEY', 'a private key is needed to sign');
  const alg = o.alg ?? defaultAlgorithm(key);
  if (!isAllowedAlgorithm(alg)) throw new JwtSvidError('UNSUPPORTED_ALG', `unsupported signature algorithm "${String(alg)}"`);
  if (o.kid === '') throw new JwtSvidError('MISSING_KID', 'a key ID is required');
  const audience = typeof o.audience === 'string' ? [o.audience] : [...o.audience];
  if (audience.length === 0 || audience.some((a) => a === '')) throw new JwtSvidError('MISSING_AUDIENCE', 'an audience is required');
  const now = o.now ?? new Date();
  const exp = o.expiresAt ?? new Date(now.getTime() + (o.ttlSeconds ?? 300) * 1000);
  return new SignJWT({ ...o.claims })
    .setProtectedHeader({ alg, kid: o.kid, typ: o.typ ?? 'JWT' })
    .setSubject(o.id.toString())
    .setAudience(audience.length === 1 ? (audience[0] as string) : audience)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(exp.getTime() / 1000))
    .sign(key);
}
