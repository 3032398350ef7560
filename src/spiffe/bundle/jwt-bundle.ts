import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import type { TrustDomain } from '../spiffeid/trust-domain.js';
import { NOT_TRUSTED } from '../errors.js';
import { BundleError } from './errors.js';

/** Anything that can hand out the JWT bundle of a trust domain. */
export interface JwtBundleSource {
  /** Throws BundleError `NOT_FOUND` when the source has no bundle for `td`. */
  getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle;
}

/** Parses one public JWK into a key; a private or malformed JWK is a BAD_JWK error naming its index. */
export function importPublicJwk(jwk: unknown, where: string, module: 'jwtbundle' | 'spiffebundle'): KeyObject {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new BundleError(module, 'BAD_JWK', `${where}: not a JSON object`);
  }
  const j = jwk as Record<string, unknown>;
  if (typeof j['kty'] !== 'string') throw new BundleError(module, 'BAD_JWK', `${where}: missing "kty"`);
  if (j['kty'] === 'oct') throw new BundleError(module, 'BAD_JWK', `${where}: symmetric keys are not allowed`);
  if (j['d'] !== undefined) throw new BundleError(module, 'BAD_JWK', `${where}: private key material is not allowed in a bundle`);
  try {
    return createPublicKey({ key: j as JsonWebKeyInput['key'], format: 'jwk' });
  } catch (e) {
    throw new BundleError(module, 'BAD_JWK', `${where}: not a valid public key: ${(e as Error).message}`, { cause: e });
  }
}

type JsonWebKeyInput = Extract<Parameters<typeof createPublicKey>[0], { format: 'jwk' }>;

/** The public JWK of a key, without any other members. */
export function publicJwk(key: KeyObject): JWK {
  return key.export({ format: 'jwk' }) as JWK;
}

/**
 * The JWT authorities (public keys by key ID) of one trust domain. Immutable. Its wire form is a
 * plain JWKS whose every key has a `kid` (Workload API `FetchJWTBundles`).
 */
export class JwtBundle implements JwtBundleSource {
  readonly authorities: ReadonlyMap<string, KeyObject>;

  private constructor(
    readonly trustDomain: TrustDomain,
    authorities: ReadonlyMap<string, KeyObject>,
  ) {
    this.authorities = new Map(authorities);
  }

  static fromAuthorities(td: TrustDomain, authorities: ReadonlyMap<string, KeyObject> | Record<string, KeyObject>): JwtBundle {
    const map = authorities instanceof Map ? authorities : new Map(Object.entries(authorities));
    for (const [kid, key] of map) {
      if (kid === '') throw new BundleError('jwtbundle', 'MISSING_KID', 'key ID cannot be empty');
      if (key.type !== 'public') throw new BundleError('jwtbundle', 'BAD_JWK', `authority "${kid}" must be a public key`);
    }
    return new JwtBundle(td, map);
  }

  /** A JWKS document (bytes or text); every key needs a unique `kid`. */
  static parse(td: TrustDomain, data: Uint8Array | string): JwtBundle {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new BundleError('jwtbundle', 'BAD_JWKS', `unable to parse JWKS: ${(e as Error).message}`, { cause: e });
    }
    const keys = (doc as { keys?: unknown } | null)?.keys;
    if (typeof doc !== 'object' || doc === null || !Array.isArray(keys)) {
      throw new BundleError('jwtbundle', 'BAD_JWKS', 'unable to parse JWKS: missing "keys" array');
    }
    const map = new Map<string, KeyObject>();
    keys.forEach((jwk: unknown, i) => {
      const kid = (jwk as { kid?: unknown } | null)?.kid;
      if (typeof kid !== 'string' || kid === '') throw new BundleError('jwtbundle', 'MISSING_KID', `key #${i}: missing key ID ("kid")`);
      if (map.has(kid)) throw new BundleError('jwtbundle', 'DUPLICATE_KID', `key #${i}: duplicate key ID "${kid}"`);
      map.set(kid, importPublicJwk(jwk, `key #${i}`, 'jwtbundle'));
    });
    return new JwtBundle(td, map);
  }

  static async load(td: TrustDomain, path: string): Promise<JwtBundle> {
    try {
      return JwtBundle.parse(td, await readFile(path));
    } catch (e) {
      throw e instanceof BundleError ? e.inFile(path) : e;
    }
  }

  findAuthority(kid: string): KeyObject | undefined {
    return this.authorities.get(kid);
  }

  /** The JWKS document. */
  marshal(): string {
    const keys = [...this.authorities].map(([kid, key]) => ({ ...publicJwk(key), kid }));
    return JSON.stringify({ keys });
  }

  getJwtBundleForTrustDomain(td: TrustDomain): JwtBundle {
    if (!td.equals(this.trustDomain)) {
      throw new BundleError('jwtbundle', 'NOT_FOUND', `no JWT bundle for trust domain "${td}"`, { code: NOT_TRUSTED });
    }
    return this;
  }
}
