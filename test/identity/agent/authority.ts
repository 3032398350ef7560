// A local SPIFFE authority for the agent's cache and Workload API tests: CAs of the test PKI
// (test/helpers/pki.ts) that issue X.509-SVIDs, and JWT keys that sign JWT-SVIDs, to fill an SvidCache by
// hand as the agent's sync loop does with the server's answers.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { SpiffeId, type TrustDomain } from '../../../src/spiffe/spiffeid/index.js';
import { JwtBundle } from '../../../src/spiffe/bundle/index.js';
import { signJwtSvid } from '../../../src/spiffe/jwtsvid/index.js';
import type { JwtSigner } from '../../../src/identity/agent/cache.js';
import type { ServedEntry, TrustBundles, X509Identity } from '../../../src/identity/agent/workloadapi/index.js';
import { ecKey, makeCa, makeSvid, type TestCa } from '../../helpers/pki.js';

export interface TestAuthority {
  td: TrustDomain;
  /** Its CAs, oldest first; the last one signs. */
  cas: TestCa[];
  jwtKeys: { kid: string; key: KeyObject }[];
  bundles(): TrustBundles;
  issue(entry: ServedEntry, ttlSeconds?: number): Promise<X509Identity>;
  jwtSigner: JwtSigner;
  /** A new CA (and JWT key) that signs from now on; the old ones stay in the bundle. */
  rotate(): Promise<void>;
}

export async function testAuthority(name = 'example.org'): Promise<TestAuthority> {
  const cas = [await makeCa(name, new Date())];
  const td = cas[0]!.td;
  let kidSeq = 1;
  const jwtKeys = [{ kid: `k${kidSeq}`, key: ecKey().privateKey }];
  const authority: TestAuthority = {
    td,
    cas,
    jwtKeys,
    bundles() {
      const jwt = JwtBundle.fromAuthorities(td, new Map(jwtKeys.map((k) => [k.kid, createPublicKey(k.key)])));
      return {
        trustDomainId: td.idString(),
        x509: new Map([[td.idString(), Buffer.concat(cas.map((c) => c.der))]]),
        jwt: new Map([[td.idString(), jwt.marshal()]]),
      };
    },
    async issue(entry, ttlSeconds = 3600) {
      const svid = await makeSvid(cas[cas.length - 1]!, entry.spiffeId, { now: new Date(), ttlSeconds });
      const leaf = svid.certificates[0]!;
      return {
        entryId: entry.id,
        spiffeId: entry.spiffeId,
        hint: entry.hint,
        certChain: Buffer.from(leaf.rawData),
        privateKey: svid.privateKey.export({ type: 'pkcs8', format: 'der' }),
        notBefore: leaf.notBefore,
        expiresAt: leaf.notAfter,
      };
    },
    jwtSigner: async (entry, audience) => {
      const k = jwtKeys[jwtKeys.length - 1]!;
      const expiresAt = new Date(Date.now() + 300_000);
      const token = await signJwtSvid({ id: SpiffeId.parse(entry.spiffeId), audience, key: k.key, kid: k.kid, expiresAt });
      return { token, expiresAt };
    },
    async rotate() {
      cas.push(await makeCa(name, new Date()));
      jwtKeys.push({ kid: `k${++kidSeq}`, key: ecKey().privateKey });
    },
  };
  return authority;
}
