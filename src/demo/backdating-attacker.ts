import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExtendedKeyUsage, KeyUsageFlags } from '../crypto/x509/x509.js';
import { signMetablock, writeMetadataFile } from '../intoto/models/metablock.js';
import type { ArtifactDict, Link, Metablock, Signature } from '../intoto/models/types.js';
import { createCertificate } from '../spiffe/x509svid/issue.js';
import { svidSigner } from '../spiffe/x509svid/signer.js';
import type { X509Svid } from '../spiffe/x509svid/svid.js';
import { fetchX509Context } from '../spiffe/workloadapi/client.js';
import { TimestampAuthority } from '../time/authority.js';
import { requestTimestamp } from '../time/client.js';
import { startTsaServer } from '../time/http.js';
import { ManualClock } from '../util/clock.js';

/**
 * The attacker of the demo's back-dating attack. They copied the builder's SVID and its key from a
 * runner (a disk image, a core dump) early on, and hold it after it expired: keys of dead certificates
 * are guarded less than live ones. They sign the build and package links of their own image with it
 * (and upload them to the store with a stolen token). A verifier checks a certificate at the time a
 * trusted timestamp vouches for, so they back-date: a TSA of their own, its clock set to a moment the
 * SVID was valid, vouches for a time it never saw. What stops them: the layout trusts only the identity
 * server's TSA, which stamps the present.
 */
export class BackdatingAttacker {
  private constructor(private readonly stolen: X509Svid) {}

  /** Copies the SVID `spiffeId` as the workload on that runner gets it (the demo runs as that workload). */
  static async steal(socketUri: string, spiffeId: string): Promise<BackdatingAttacker> {
    const context = await fetchX509Context({ address: socketUri, timeoutMs: 5000 });
    const svid = context.svids.find((s) => s.id.toString() === spiffeId);
    if (svid === undefined) throw new Error(`demo: the runner serves no SVID for ${spiffeId}`);
    return new BackdatingAttacker(svid);
  }

  /** When the stolen SVID stops being valid: the attack is made after it. */
  get expiresAt(): Date {
    return this.stolen.expiresAt;
  }

  /**
   * Forges the link at `path` for the attacker's artifacts: every material and product digest in `swap`
   * replaced by its value; signs it with the stolen key as if at a time the SVID was valid, stamps it
   * with the attacker's TSA, and writes it in `outDir`, named as `evident run` names a link (by the
   * signing key). The path of the forged link.
   */
  async forgeLink(path: string, swap: ReadonlyMap<string, string>, outDir: string): Promise<string> {
    const honest = JSON.parse(await readFile(path, 'utf8')) as Metablock<Link>;
    const swapped = (artifacts: ArtifactDict): ArtifactDict =>
      Object.fromEntries(
        Object.entries(artifacts).map(([name, hashes]) => {
          const theirs = hashes.sha256 === undefined ? undefined : swap.get(hashes.sha256);
          return [name, theirs === undefined ? hashes : { ...hashes, sha256: theirs }];
        }),
      );
    const link: Link = { ...honest.signed, materials: swapped(honest.signed.materials), products: swapped(honest.signed.products) };
    const leaf = this.stolen.certificates[0]!;
    const backdated = new Date((leaf.notBefore.getTime() + leaf.notAfter.getTime()) / 2);
    const forged = signMetablock(link, [svidSigner(this.stolen, () => backdated)]);
    const signature = forged.signatures[0] as Signature; // an SVID's: a hex `sig`
    const token = await backdatedToken(Buffer.from(signature.sig, 'hex'), backdated);
    signature.timestamps = [{ type: 'tsp', data: token.toString('base64') }];
    await mkdir(outDir, { recursive: true });
    const out = join(outDir, `${link.name}.${signature.keyid.slice(0, 8)}.link`);
    await writeMetadataFile(out, forged);
    return out;
  }
}

/** A token over `data` from a TSA the attacker runs, saying `genTime`: a real RFC 3161 token, from the wrong authority. */
async function backdatedToken(data: Buffer, genTime: Date): Promise<Buffer> {
  const day = 86_400_000;
  const validity = { notBefore: new Date(genTime.getTime() - day), notAfter: new Date(genTime.getTime() + 365 * day) };
  const rootKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const root = await createCertificate({
    subject: 'CN=evident root, O=evident',
    publicKey: rootKey.publicKey,
    selfSignKey: rootKey.privateKey,
    ca: true,
    keyUsages: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
    ...validity,
  });
  const tsaKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // named as the real one is: the name proves nothing, the chain to a trusted root does
  const tsa = await createCertificate({
    subject: 'CN=evident TSA, O=evident',
    publicKey: tsaKey.publicKey,
    issuer: { certificate: root, privateKey: rootKey.privateKey },
    keyUsages: KeyUsageFlags.digitalSignature,
    extKeyUsages: [ExtendedKeyUsage.timeStamping],
    extKeyUsageCritical: true,
    ...validity,
  });
  const authority = new TimestampAuthority({
    signer: { privateKey: tsaKey.privateKey, chain: [tsa, root] },
    clock: new ManualClock(genTime.getTime()),
  });
  const server = await startTsaServer({ authority });
  try {
    return await requestTimestamp(server.url, data);
  } finally {
    await server.close();
  }
}
