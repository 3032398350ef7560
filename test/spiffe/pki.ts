// Test PKI: real keys and certificates made with the library's own issuing helpers.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { X509Certificate } from '@peculiar/x509';
import { SpiffeId, TrustDomain } from '../../src/spiffe/spiffeid/index.js';
import { createCaCertificate, createX509Svid, X509Svid } from '../../src/spiffe/x509svid/index.js';
import { X509Bundle } from '../../src/spiffe/bundle/index.js';

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function ecKey(curve: 'P-256' | 'P-384' = 'P-256'): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: curve });
}

/** A frozen clock for certificate tests: every certificate is issued relative to it. */
export const NOW = new Date('2026-01-15T12:00:00Z');

export interface TestCa {
  td: TrustDomain;
  cert: X509Certificate;
  key: KeyPair;
  bundle: X509Bundle;
}

export async function makeCa(name: string, now = NOW): Promise<TestCa> {
  const td = TrustDomain.parse(name);
  const key = ecKey();
  const cert = await createCaCertificate({ trustDomain: td, publicKey: key.publicKey, privateKey: key.privateKey, now, ttlSeconds: 30 * 24 * 3600 });
  return { td, cert, key, bundle: X509Bundle.fromAuthorities(td, [cert]) };
}

export async function makeSvid(ca: TestCa, path: string, opts: { now?: Date; ttlSeconds?: number; hint?: string } = {}): Promise<X509Svid> {
  const key = ecKey();
  const leaf = await createX509Svid({
    id: SpiffeId.parse(`spiffe://${ca.td.name}${path}`),
    publicKey: key.publicKey,
    issuer: { certificate: ca.cert, privateKey: ca.key.privateKey },
    now: opts.now ?? NOW,
    ttlSeconds: opts.ttlSeconds ?? 3600,
  });
  return X509Svid.fromParts([leaf], key.privateKey, { hint: opts.hint });
}
