/**
 * Decoys in a shared evidence store: links uploaded with a stolen store token that do not count for their
 * step (a signature that does not hold under a functionary's keyid, a flood of materials, materials that
 * point at other genuine evidence) must not turn the verdict on a product with honest evidence, nor make
 * its verification fail for size. The walk judges each link as verification would (store/link-judge.ts).
 * Real store over HTTP, real signatures.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Layout, Link, Metablock } from '../../src/intoto/models/types.js';
import { StoreClient } from '../../src/store/client.js';
import type { StoreDigest } from '../../src/store/digest.js';
import { verifyProduct, type ProductPolicy } from '../../src/store/verify-product.js';
import { artifacts, link, linkName, sign } from '../intoto/verify/fixtures.js';
import { carol, chainLayout, chainLinks, owner, signers, TARBALL } from '../intoto/verify/chain.js';
import { startTestStore, type TestStore } from './test-store.js';

const TOKEN = 'decoy-test-token';
const digest = (data: string) => `sha256:${createHash('sha256').update(data).digest('hex')}` as StoreDigest;
const PRODUCT = digest(TARBALL['hello.tar.gz']);

let store: TestStore;
let client: StoreClient;
let policy: ProductPolicy;
const pushed: Record<string, string> = {};

/** A link with a signature that does not hold: the honest link's signature entry over changed contents. */
function forged(l: Link, signedAs: Metablock<Link>): Buffer {
  return Buffer.from(JSON.stringify({ signed: l, signatures: signedAs.signatures }));
}

before(async () => {
  store = await startTestStore({ token: TOKEN });
  client = new StoreClient({ url: store.url, token: TOKEN });
  for (const [name, l] of Object.entries(chainLinks())) {
    pushed[name] = (await client.push(Buffer.from(JSON.stringify(sign(l, [signers[name]!()]))))).digest;
  }
  const layout: Layout = chainLayout();
  policy = { name: 'root.layout', layout, document: sign(layout, [owner()]), keys: [owner().publicKey] };
});
after(async () => {
  await store.close();
});

test('the honest chain alone verifies (the baseline the decoys are measured against)', async () => {
  const { report, evidence } = await verifyProduct(client, policy, PRODUCT, { runInspections: false });
  assert.equal(report.ok, true);
  assert.equal(evidence.walk.links.size, 3);
});

test("a newer package link under the packager's keyid whose signature does not hold takes no place from the real one", async () => {
  const honest = sign(chainLinks().package!, [carol()]);
  const decoy = forged({ ...chainLinks().package!, command: ['tar', 'czf', 'decoy'] }, honest);
  const decoyDigest = (await client.push(decoy)).digest;
  const { report, evidence } = await verifyProduct(client, policy, PRODUCT, { runInspections: false });
  assert.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => !c.ok)));
  assert.equal(evidence.walk.links.get(linkName('package', carol()))?.digest, pushed.package);
  const skipped = evidence.walk.skipped.find((s) => s.digest === decoyDigest);
  assert.match(skipped?.reason ?? 'not skipped', /has no valid signature by \w{8}/);
  assert.equal(evidence.walk.unsound.size, 0);
});

test('a decoy listing 12 000 materials is not followed: the walk stays a few searches long', async () => {
  const many = Object.fromEntries(
    Array.from({ length: 12_000 }, (_, i) => [`m${i}`, { sha256: createHash('sha256').update(`m${i}`).digest('hex') }]),
  );
  const flood = { ...chainLinks().package!, materials: many, command: ['flood'] };
  await client.push(forged(flood, sign(chainLinks().package!, [carol()])));
  const { report, evidence } = await verifyProduct(client, policy, PRODUCT, { runInspections: false });
  assert.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => !c.ok)));
  assert.ok(evidence.walk.searches < 20, `${evidence.walk.searches} searches`);
});

test('a decoy whose materials point at another genuine build does not bring that build into the chain', async () => {
  // a genuine build by the builder, of other sources and another binary, stored before: real evidence, wrong chain
  const otherBinary = { hello: 'another ELF binary' };
  const otherBuild = link('build', { materials: artifacts({ 'src/main.c': 'other' }), products: artifacts(otherBinary) });
  await client.push(Buffer.from(JSON.stringify(sign(otherBuild, [signers.build!()]))));
  // the decoy says the product was packaged from that binary
  const decoy = { ...chainLinks().package!, materials: artifacts(otherBinary), command: ['tar', 'czf', 'repack'] };
  await client.push(forged(decoy, sign(chainLinks().package!, [carol()])));
  const { report, evidence } = await verifyProduct(client, policy, PRODUCT, { runInspections: false });
  assert.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => !c.ok)));
  assert.equal(evidence.walk.links.get(linkName('build', signers.build!()))?.digest, pushed.build);
});

test('with no honest evidence, edited links are still shown to verification, which says what is wrong with them', async () => {
  const evil = { 'hello.tar.gz': 'gzip of an evil hello' };
  const evilBinary = { hello: 'evil ELF binary' };
  const honest = chainLinks();
  const build = { ...honest.build!, products: artifacts(evilBinary) };
  const pack = { ...honest.package!, materials: artifacts(evilBinary), products: artifacts(evil) };
  await client.push(forged(build, sign(honest.build!, [signers.build!()])));
  await client.push(forged(pack, sign(honest.package!, [carol()])));
  const { report, evidence } = await verifyProduct(client, policy, digest(evil['hello.tar.gz']), { runInspections: false });
  assert.equal(report.ok, false);
  // found behind the edited package link by the diagnosis, and handed over as not counting
  assert.deepEqual([...evidence.walk.unsound.keys()].sort(), [linkName('build', signers.build!()), linkName('package', carol())].sort());
  const failures = report.checks.filter((c) => !c.ok).map((c) => `${c.step}: ${c.message}`);
  assert.ok(
    failures.some((f) => /^build: .*has no valid signature/.test(f)),
    failures.join('\n'),
  );
});
