// A local test CA made with the SPIFFE library's own helpers: issues X.509- and JWT-SVIDs to fill an
// SvidCache by hand, as the agent's sync loop does with the server's answers.
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { X509Certificate } from '@peculiar/x509';
import { SpiffeId, TrustDomain } from '../../../src/spiffe/spiffeid/index.js';
import { createCaCertificate, createX509Svid } from '../../../src/spiffe/x509svid/index.js';
import { JwtBundle } from '../../../src/spiffe/bundle/index.js';
import { signJwtSvid } from '../../../src/spiffe/jwtsvid/index.js';
import type { JwtSigner } from '../../../src/identity/agent/cache.js';
import type { ServedEntry, TrustBundles, X509Identity } from '../../../src/identity/agent/workloadapi/index.js';

export interface TestAuthority {
  td: TrustDomain;
  cas: { cert: X509Certificate; key: KeyObject }[];
  jwtKeys: { kid: string; key: KeyObject }[];
  bundles(): TrustBundles;
  issue(entry: ServedEntry, ttlSeconds?: number): Promise<X509Identity>;
  jwtSigner: JwtSigner;
  /** A new CA (and JWT key) that signs from now on; the old ones stay in the bundle. */
  rotate(): Promise<void>;
}

function der(cert: X509Certificate): Buffer {
  return Buffer.from(cert.rawData);
}

async function newCa(td: TrustDomain): Promise<{ cert: X509Certificate; key: KeyObject }> {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = await createCaCertificate({ trustDomain: td, publicKey, privateKey, ttlSeconds: 24 * 3600 });
  return { cert, key: privateKey };
}

export async function testAuthority(name = 'example.org'): Promise<TestAuthority> {
  const td = TrustDomain.parse(name);
  const cas = [await newCa(td)];
  let kidSeq = 1;
  const jwtKeys = [{ kid: `k${kidSeq}`, key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }];
  const authority: TestAuthority = {
    td,
    cas,
    jwtKeys,
    bundles() {
      const jwt = JwtBundle.fromAuthorities(td, new Map(jwtKeys.map((k) => [k.kid, createPublicKey(k.key)])));
      return {
        trustDomainId: td.idString(),
        x509: new Map([[td.idString(), Buffer.concat(cas.map((c) => der(c.cert)))]]),
        jwt: new Map([[td.idString(), jwt.marshal()]]),
      };
    },
    async issue(entry, ttlSeconds = 3600) {
      const ca = cas[cas.length - 1] as { cert: X509Certificate; key: KeyObject };
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const leaf = await createX509Svid({ id: SpiffeId.parse(entry.spiffeId), publicKey, issuer: { certificate: ca.cert, privateKey: ca.key }, ttlSeconds });
      return {
        entryId: entry.id,
        spiffeId: entry.spiffeId,
        hint: entry.hint,
        certChain: der(leaf),
        privateKey: privateKey.export({ type: 'pkcs8', format: 'der' }),
        notBefore: leaf.notBefore,
        expiresAt: leaf.notAfter,
      };
    },
    jwtSigner: async (entry, audience) => {
      const k = jwtKeys[jwtKeys.length - 1] as { kid: string; key: KeyObject };
      const expiresAt = new Date(Date.now() + 300_000);
      const token = await signJwtSvid({ id: SpiffeId.parse(entry.spiffeId), audience, key: k.key, kid: k.kid, expiresAt });
      return { token, expiresAt };
    },
    async rotate() {
      cas.push(await newCa(td));
      jwtKeys.push({ kid: `k${++kidSeq}`, key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey });
    },
  };
  return authority;
}
