/**
 * The gate's decision against a real evidence store holding real signed chains: which policy applies,
 * digest pinning, verification, the verdict cache (fresh, refused, stale during an outage, bounded by
 * the layout's expiry), fail closed and --fail-open, single-flight. The cache's clock is the gate's
 * `now` option, moved by the tests; verification and the store are real.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signEnvelope } from '../../src/crypto/dsse.js';
import { canonicalJsonBytes } from '../../src/crypto/canonical-json.js';
import { EvidentError } from '../../src/errors.js';
import { serializeEnvelope, signLinkEnvelope } from '../../src/intoto/models/metablock.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../../src/intoto/models/statement-link.js';
import type { Layout } from '../../src/intoto/models/types.js';
import { Gate, type GateOptions } from '../../src/gate/gate.js';
import { loadPolicy } from '../../src/gate/policy-file.js';
import type { GatePolicy } from '../../src/gate/policy.js';
import { StoreClient } from '../../src/store/client.js';
import type { EvidenceReader } from '../../src/store/chain.js';
import type { StoreDigest } from '../../src/store/digest.js';
import { edKey, link } from '../store/server-fixtures.js';
import { gateWorld, type GateWorld } from './gate-fixtures.js';

const UNKNOWN = `sha256:${'ab'.repeat(32)}` as StoreDigest;
const MINUTE = 60_000;

/** The store's client, counting the searches it is asked for (how many verifications ran). */
function countingReader(url: string): EvidenceReader & { searches: number } {
  const client = new StoreClient({ url });
  const reader = {
    searches: 0,
    shown: client.shown,
    get: (d: StoreDigest) => client.get(d),
    queryAll: (q: Parameters<StoreClient['queryAll']>[0], max: number) => {
      reader.searches++;
      return client.queryAll(q, max);
    },
  };
  return reader;
}

describe('gate decision', () => {
  let world: GateWorld;
  let policy: GatePolicy;
  before(async () => {
    world = await gateWorld();
    const file = (p: string) => ({ path: p, shown: p });
    policy = await loadPolicy({
      layout: file(world.chain.layoutFile),
      layoutKeys: [file(world.chain.ownerKeyFile)],
      namespaces: [],
      images: [],
      skipInspections: false,
    });
  });
  after(async () => {
    await world?.store.close();
    if (world) rmSync(world.dir, { recursive: true, force: true });
  });

  const image = (digest: string, name = 'registry.example/app') => ({ text: `${name}@${digest}`, name, digest: digest as StoreDigest });
  const gateOver = (o: Partial<GateOptions> = {}) => {
    const reader = countingReader(world.store.url);
    let clock = Date.now();
    const gate = new Gate({ policies: [policy], store: reader, now: () => clock, ...o });
    return { gate, reader, advance: (ms: number) => (clock += ms), at: (t: number) => (clock = t) };
  };

  it('admits the honest digest, then from the cache without asking the store', async () => {
    const { gate, reader } = gateOver();
    const first = await gate.decide(image(world.chain.honestProduct), { namespace: 'default' });
    assert.deepEqual(first.reasons, []);
    assert.equal(first.allowed, true);
    assert.equal(first.layout, 'root.layout');
    assert.equal(first.basis, 'verified');
    const searches = reader.searches;
    assert.ok(searches > 0);
    const second = await gate.decide(image(world.chain.honestProduct), { namespace: 'default' });
    assert.equal(second.allowed, true);
    assert.equal(second.basis, 'cached');
    assert.equal(reader.searches, searches);
  });

  it('refuses the tampered chain, naming the step and the rule that failed', async () => {
    const { gate } = gateOver();
    const v = await gate.decide(image(world.chain.tamperedProduct));
    assert.equal(v.allowed, false);
    assert.equal(v.layout, 'root.layout');
    assert.ok(
      v.reasons.some((r) => r.startsWith('build: ') && /DISALLOW \*/.test(r) && /evil\.patch/.test(r)),
      v.reasons.join('\n'),
    );
  });

  it('refuses a digest the store has no evidence for', async () => {
    const { gate } = gateOver();
    const v = await gate.decide(image(UNKNOWN));
    assert.equal(v.allowed, false);
    assert.ok(v.reasons.length > 0);
    assert.ok(
      v.reasons.some((r) => /package/.test(r)),
      v.reasons.join('\n'),
    );
  });

  it('refuses an image named by tag only, without asking the store', async () => {
    const { gate, reader } = gateOver();
    const v = await gate.decide({ text: 'registry.example/app:1.0', name: 'registry.example/app' });
    assert.equal(v.allowed, false);
    assert.match(v.reasons[0]!, /registry\.example\/app:1\.0 is not pinned by digest/);
    assert.equal(reader.searches, 0);
  });

  it('refuses when no policy applies, saying so; the first policy that applies decides', async () => {
    const scoped: GatePolicy = { ...policy, name: 'payments', namespaces: ['payments'], images: ['registry.example/payments/**'] };
    const { gate } = gateOver({ policies: [scoped] });
    const elsewhere = await gate.decide(image(world.chain.honestProduct, 'registry.example/payments/api'), { namespace: 'default' });
    assert.equal(elsewhere.allowed, false);
    assert.equal(elsewhere.layout, null);
    assert.match(elsewhere.reasons[0]!, /no policy applies to registry\.example\/payments\/api@sha256:[0-9a-f]{64} in namespace default/);
    const otherImage = await gate.decide(image(world.chain.honestProduct, 'registry.example/web'), { namespace: 'payments' });
    assert.match(otherImage.reasons[0]!, /no policy applies/);
    const bare = await gate.decide(
      { text: world.chain.honestProduct, digest: world.chain.honestProduct as StoreDigest },
      { namespace: 'payments' },
    );
    assert.match(bare.reasons[0]!, /no policy applies/);
    const applies = await gate.decide(image(world.chain.honestProduct, 'registry.example/payments/api'), { namespace: 'payments' });
    assert.equal(applies.allowed, true);
    assert.equal(applies.layout, 'payments');
  });

  it('refuses, saying why, a chain with more links than the limit (not an outage: the cache is not used)', async () => {
    const { gate } = gateOver({ maxLinks: 1 });
    const v = await gate.decide(image(world.chain.honestProduct));
    assert.equal(v.allowed, false);
    assert.equal(v.basis, 'verified');
    assert.match(v.reasons[0]!, /^sha256:[0-9a-f]{64} could not be verified: .*1/);
  });

  it('shares one verification among concurrent identical requests', async () => {
    const { gate, reader } = gateOver();
    const alone = gateOver();
    await alone.gate.decide(image(world.chain.honestProduct));
    const verdicts = await Promise.all(Array.from({ length: 8 }, () => gate.decide(image(world.chain.honestProduct))));
    assert.ok(verdicts.every((v) => v.allowed));
    assert.equal(reader.searches, alone.reader.searches);
  });

  it('asks the store again once an allowed verdict is past --cache-ttl', async () => {
    const { gate, reader, advance } = gateOver({ cacheTtlMs: 5 * MINUTE });
    await gate.decide(image(world.chain.honestProduct));
    const once = reader.searches;
    advance(4 * MINUTE);
    assert.equal((await gate.decide(image(world.chain.honestProduct))).basis, 'cached');
    assert.equal(reader.searches, once);
    advance(2 * MINUTE);
    assert.equal((await gate.decide(image(world.chain.honestProduct))).basis, 'verified');
    assert.equal(reader.searches, 2 * once);
  });

  it('keeps a refusal only briefly: evidence uploaded later admits after --refused-ttl', async () => {
    const late = await gateWorld({ uploadHonest: false });
    try {
      const reader = countingReader(late.store.url);
      let clock = Date.now();
      const latePolicy = await loadPolicy({
        layout: { path: late.chain.layoutFile, shown: 'root.layout' },
        layoutKeys: [{ path: late.chain.ownerKeyFile, shown: 'owner.pub' }],
        namespaces: [],
        images: [],
        skipInspections: false,
      });
      const gate = new Gate({ policies: [latePolicy], store: reader, now: () => clock, refusedTtlMs: 10_000 });
      assert.equal((await gate.decide(image(late.chain.honestProduct))).allowed, false);
      await late.upload(late.chain.honest);
      clock += 5_000;
      const cached = await gate.decide(image(late.chain.honestProduct));
      assert.equal(cached.allowed, false);
      assert.equal(cached.basis, 'cached');
      clock += 6_000;
      const now = await gate.decide(image(late.chain.honestProduct));
      assert.equal(now.allowed, true, now.reasons.join('\n'));
    } finally {
      await late.store.close();
      rmSync(late.dir, { recursive: true, force: true });
    }
  });

  describe('when the store stops', () => {
    it('keeps admitting verified digests from the cache, refuses the unknown (fail closed), bounded by --stale-max', async () => {
      const w = await gateWorld();
      const p = await loadPolicy({
        layout: { path: w.chain.layoutFile, shown: 'root.layout' },
        layoutKeys: [{ path: w.chain.ownerKeyFile, shown: 'owner.pub' }],
        namespaces: [],
        images: [],
        skipInspections: false,
      });
      let clock = Date.now();
      const gate = new Gate({
        policies: [p],
        store: new StoreClient({ url: w.store.url }),
        now: () => clock,
        staleMaxMs: 24 * 60 * MINUTE,
      });
      const failOpen = new Gate({ policies: [p], store: new StoreClient({ url: w.store.url }), failOpen: true, log: () => {} });
      try {
        assert.equal((await gate.decide(image(w.chain.honestProduct))).allowed, true);
        assert.equal((await gate.decide(image(w.chain.tamperedProduct))).allowed, false);
      } finally {
        await w.store.close();
        rmSync(w.dir, { recursive: true, force: true });
      }
      clock += 10 * MINUTE; // past the fresh TTL: the gate must ask, and the store is gone
      const honest = await gate.decide(image(w.chain.honestProduct));
      assert.equal(honest.allowed, true);
      assert.equal(honest.basis, 'stale');
      assert.match(honest.warnings[0]!, /evidence store could not be asked .*connection refused.*admitted on the verdict verified at/);

      const unknown = await gate.decide(image(UNKNOWN));
      assert.equal(unknown.allowed, false);
      assert.equal(unknown.basis, 'unreachable', 'refused because the store could not be asked, not on evidence');
      assert.match(
        unknown.reasons[0]!,
        /evidence store cannot be reached, so sha256:(ab){32} could not be verified .*refused \(the gate fails closed\)/,
      );

      const tampered = await gate.decide(image(w.chain.tamperedProduct));
      assert.equal(tampered.allowed, false, 'a refused verdict never admits in an outage');
      assert.match(tampered.reasons[0]!, /cannot be reached/);

      clock += 24 * 60 * MINUTE; // past --stale-max
      const tooOld = await gate.decide(image(w.chain.honestProduct));
      assert.equal(tooOld.allowed, false);
      assert.equal(tooOld.basis, 'unreachable');
      assert.match(tooOld.reasons[0]!, /cannot be reached.*past the evidence's validity/);

      const open = await failOpen.decide(image(UNKNOWN));
      assert.equal(open.allowed, true);
      assert.equal(open.basis, 'fail-open');
      assert.match(open.warnings[0]!, /admitted unverified because the gate runs with --fail-open/);
    });

    it('stops admitting from the cache when the layout expires, however long --stale-max is', async () => {
      const w = await gateWorld();
      const p = await loadPolicy({
        layout: { path: w.chain.layoutFile, shown: 'root.layout' },
        layoutKeys: [{ path: w.chain.ownerKeyFile, shown: 'owner.pub' }],
        namespaces: [],
        images: [],
        skipInspections: false,
      });
      let clock = Date.now();
      const century = 100 * 365 * 24 * 60 * MINUTE;
      const gate = new Gate({ policies: [p], store: new StoreClient({ url: w.store.url }), now: () => clock, staleMaxMs: century });
      try {
        assert.equal((await gate.decide(image(w.chain.honestProduct))).allowed, true);
      } finally {
        await w.store.close();
        rmSync(w.dir, { recursive: true, force: true });
      }
      clock = Date.parse('2099-12-31T23:00:00Z'); // the layout expires 2100-01-01
      assert.equal((await gate.decide(image(w.chain.honestProduct))).basis, 'stale');
      clock = Date.parse('2100-01-01T00:00:01Z');
      const expired = await gate.decide(image(w.chain.honestProduct));
      assert.equal(expired.allowed, false);
      assert.match(expired.reasons[0]!, /past the evidence's validity/);
    });
  });

  it('names the inspections a policy skips; a layout with inspections is refused unless the policy skips them', async () => {
    const source = {
      layout: { path: world.inspectedLayoutFile, shown: 'inspected.layout' },
      layoutKeys: [{ path: world.inspectedKeyFile, shown: 'inspected-owner.pub' }],
      namespaces: [],
      images: [],
    };
    await assert.rejects(
      loadPolicy({ ...source, skipInspections: false }),
      /inspected\.layout has inspections \(untar\) and a gate runs no commands/,
    );
    const skipping = await loadPolicy({ ...source, skipInspections: true });
    const { gate } = gateOver({ policies: [skipping] });
    const v = await gate.decide(image(world.chain.honestProduct));
    assert.equal(v.allowed, true, v.reasons.join('\n'));
    assert.deepEqual(v.skippedInspections, ['untar']);
  });
  it('reads a DSSE-wrapped layout (in-toto-golang, Python in-toto 2.x) as verify does: its owner admits, another key refuses', async () => {
    // the chain's layout, signed by a new owner as a DSSE envelope whose payload is the layout itself
    const layout = (JSON.parse(readFileSync(world.chain.layoutFile, 'utf8')) as { signed: Layout }).signed;
    const owner = edKey();
    const dsseFile = join(world.dir, 'root.dsse.layout');
    writeFileSync(dsseFile, serializeEnvelope(signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalJsonBytes(layout), [owner])));
    const ownerFile = join(world.dir, 'dsse-owner.pub');
    writeFileSync(ownerFile, owner.publicKey.keyObject.export({ type: 'spki', format: 'pem' }) as string);
    const source = (keyFile: string) => ({
      layout: { path: dsseFile, shown: 'root.dsse.layout' },
      layoutKeys: [{ path: keyFile, shown: 'owner.pub' }],
      namespaces: [],
      images: [],
      skipInspections: false,
    });
    const dsse = await loadPolicy(source(ownerFile));
    assert.equal(dsse.name, 'root.dsse.layout');
    assert.equal(dsse.layout.steps.length, 3);
    const { gate } = gateOver({ policies: [dsse] });
    const honest = await gate.decide(image(world.chain.honestProduct));
    assert.equal(honest.allowed, true, honest.reasons.join('\n'));
    const tampered = await gate.decide(image(world.chain.tamperedProduct));
    assert.equal(tampered.allowed, false);
    assert.ok(
      tampered.reasons.some((r) => /^build: .*DISALLOW/.test(r)),
      tampered.reasons.join('\n'),
    );

    // the envelope's signature is checked against the policy's keys, as a metablock's is
    const other = await loadPolicy(source(world.chain.ownerKeyFile));
    const wrongOwner = await gateOver({ policies: [other] }).gate.decide(image(world.chain.honestProduct));
    assert.equal(wrongOwner.allowed, false);
    assert.ok(
      wrongOwner.reasons.some((r) => /layout/.test(r)),
      wrongOwner.reasons.join('\n'),
    );

    // a DSSE envelope of a link is not a layout: named as what it is
    const linkEnvelope = join(world.dir, 'a-link.dsse');
    writeFileSync(linkEnvelope, serializeEnvelope(signLinkEnvelope(link('code', {}, {}), [owner])));
    await assert.rejects(
      loadPolicy({ ...source(ownerFile), layout: { path: linkEnvelope, shown: 'a-link.dsse' } }),
      (e: unknown) =>
        e instanceof EvidentError && e.code === 'BAD_INPUT' && e.file === 'a-link.dsse' && /envelope of a link/.test(e.message),
    );
  });
});
