import type { KeyObject } from 'node:crypto';
import { JwtSvidError } from './errors.js';
import { namedCurveOf } from '../../crypto/ec-curve.js';

/** JWT-SVID §3: RS, ES and PS families only; never `none`, never HMAC. */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'] as const;
export type JwtSvidAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

export function isAllowedAlgorithm(alg: unknown): alg is JwtSvidAlgorithm {
  return typeof alg === 'string' && (ALLOWED_ALGORITHMS as readonly string[]).includes(alg);
}

/** The natural algorithm for a signing key: ES256/384/512 by curve, RS256 for RSA, PS256 for RSA-PSS. */
export function defaultAlgorithm(key: KeyObject): JwtSvidAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec':
      switch (namedCurveOf(key)) {
        case 'prime256v1':
          return 'ES256';
        case 'secp384r1':
          return 'ES384';
        case 'secp521r1':
          return 'ES512';
      }
      break;
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
  }
  throw new JwtSvidError('BAD_KEY', `no JWT-SVID algorithm for a ${key.asymmetricKeyType ?? 'unknown'} key (use EC P-256/384/521 or RSA)`);
}
