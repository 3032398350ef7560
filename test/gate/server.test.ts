/**
 * `gate serve`'s HTTP API over real HTTP: a real evidence store holding real signed chains, a real gate
 * server. /v1/admit verdicts, bad bodies (4xx JSON), /validate, /metrics in Prometheus text, health, and
 * the fault test: the store stops mid-run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gate } from '../../src/gate/gate.js';
import { GateMetrics } from '../../src/gate/metrics.js';
import { loadPolicy } from '../../src/gate/policy-file.js';
import type { GatePolicy } from '../../src/gate/policy.js';
import { startGateServer, type RunningGate } from '../../src/gate/server.js';
import { StoreClient } from '../../src/store/client.js';
import { makeCa, makeSvid } from '../helpers/pki.js';
import { call } from '../store/server-fixtures.js';
import { gateWorld, type GateWorld } from './gate-fixtures.js';

const UNKNOWN = `sha256:${'cd'.repeat(32)}`;
const MINUTE = 60_000;

async function policyOf(world: GateWorld): Promise<GatePolicy> {
  return loadPolicy({
    layout: { path: world.chain.layoutFile, shown: 'root.layout' },
    layoutKeys: [{ path: world.chain.ownerKeyFile, shown: 'owner.pub' }],
    namespaces: [],
    images: [],
    skipInspections: false,
  });
}

const admit = async (gate: RunningGate, body: unknown) => {
  const r = await call(gate.url, '/v1/admit', { body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: r.json() };
};

/** Prometheus text format: `# HELP`/`# TYPE` lines and `name{label="v",…} number` samples, nothing else. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.e+]+|NaN|\+Inf|-Inf)$/.exec(
      line,
    );
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

describe('gate serve', () => {
  let world: GateWorld;
  let gate: RunningGate;
  before(async () => {
    world = await gateWorld();
    const metrics = new GateMetrics();
    gate = await startGateServer({
      gate: new Gate({ policies: [await policyOf(world)], store: new StoreClient({ url: world.store.url }), observer: metrics }),
      metrics,
    });
  });
  after(async () => {
    await gate?.close();
    await world?.store.close();
    if (world) rmSync(world.dir, { recursive: true, force: true });
  });

  it('admits the honest digest, by name or bare', async () => {
    const named = await admit(gate, { artifact: `registry.example/app@${world.chain.honestProduct}`, context: { namespace: 'default' } });
    assert.equal(named.status, 200);
    assert.deepEqual(named.json, { allowed: true, layout: 'root.layout', reasons: [], basis: 'verified' });
    const bare = await admit(gate, { artifact: world.chain.honestProduct });
    assert.deepEqual(bare.json, { allowed: true, layout: 'root.layout', reasons: [], basis: 'cached' });
  });

  it('refuses the tampered chain with the failed rule, an unknown digest, and a tag', async () => {
    const tampered = await admit(gate, { artifact: world.chain.tamperedProduct });
    assert.equal(tampered.status, 200);
    assert.equal(tampered.json.allowed, false);
    assert.ok(
      (tampered.json.reasons as string[]).some((r) => /^build: .*DISALLOW \*.*evil\.patch/.test(r)),
      String(tampered.json.reasons),
    );
    const unknown = await admit(gate, { artifact: UNKNOWN });
    assert.equal(unknown.json.allowed, false);
    assert.ok((unknown.json.reasons as string[]).length > 0);
    const tag = await admit(gate, { artifact: 'registry.example/app:1.0' });
    assert.equal(tag.status, 200);
    assert.equal(tag.json.allowed, false);
    assert.match((tag.json.reasons as string[])[0]!, /not pinned by digest/);
  });

  it('answers a bad body with a 4xx JSON error naming the problem', async () => {
    const cases: [unknown, number, RegExp][] = [
      ['{"artifact": ', 400, /JSON/],
      [[], 400, /must be a JSON object/],
      [{}, 400, /"artifact" must be a string/],
      [{ artifact: 7 }, 400, /"artifact" must be a string/],
      [{ artifact: 'sha256:abc' }, 400, /not sha256: and 64 hex digits/],
      [{ artifact: world.chain.honestProduct, extra: 1 }, 400, /unknown field 'extra'/],
      [{ artifact: world.chain.honestProduct, context: [] }, 400, /"context" must be an object/],
      [{ artifact: world.chain.honestProduct, context: { namespace: 3 } }, 400, /"context.namespace" must be a string/],
      [{ artifact: 'x'.repeat(70 * 1024) }, 413, /larger than 65536 bytes/],
    ];
    for (const [body, status, message] of cases) {
      const r = await admit(gate, body);
      assert.equal(r.status, status, JSON.stringify(body).slice(0, 80));
      assert.match(String(r.json.error), message);
    }
    const text = await call(gate.url, '/v1/admit', { body: 'artifact=x', contentType: 'text/plain' });
    assert.equal(text.status, 415);
    assert.match(String(text.json().error), /must be JSON/);
    const empty = await call(gate.url, '/v1/admit', { method: 'POST' });
    assert.ok(empty.status >= 400 && empty.status < 500);
  });

  it('answers an AdmissionReview at /validate', async () => {
    const review = (image: string) => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        requestKind: { group: '', version: 'v1', kind: 'Pod' },
        requestResource: { group: '', version: 'v1', resource: 'pods' },
        name: 'app',
        namespace: 'default',
        operation: 'CREATE',
        userInfo: { username: 'admin', groups: ['system:authenticated'] },
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'app', namespace: 'default' },
          spec: { containers: [{ name: 'app', image }] },
        },
        oldObject: null,
        dryRun: false,
        options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      },
    });
    const ok = await call(gate.url, '/validate', { body: JSON.stringify(review(`registry.example/app@${world.chain.honestProduct}`)) });
    assert.equal(ok.status, 200);
    const okResponse = ok.json().response as { uid: string; allowed: boolean };
    assert.equal(okResponse.uid, '705ab4f5-6393-11e8-b7cc-42010a800002');
    assert.equal(okResponse.allowed, true);
    const bad = await call(gate.url, '/validate', { body: JSON.stringify(review(`registry.example/app@${world.chain.tamperedProduct}`)) });
    const badResponse = bad.json().response as { allowed: boolean; status: { message: string } };
    assert.equal(badResponse.allowed, false);
    assert.match(badResponse.status.message, /DISALLOW/);
    const notReview = await call(gate.url, '/validate', { body: JSON.stringify({ kind: 'Pod' }) });
    assert.equal(notReview.status, 400);
    assert.equal(typeof notReview.json().error, 'string');
  });

  it('serves /metrics in Prometheus text, and health', async () => {
    await admit(gate, { artifact: world.chain.honestProduct });
    const r = await call(gate.url, '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    const m = parseMetrics(r.body.toString());
    assert.ok(m.get('evident_gate_verdicts_total{outcome="allowed",basis="verified"}')! >= 1);
    assert.ok(m.get('evident_gate_verdicts_total{outcome="refused",basis="verified"}')! >= 2);
    assert.ok(m.get('evident_gate_cache_total{result="hit"}')! >= 1);
    assert.ok(m.get('evident_gate_cache_total{result="miss"}')! >= 3);
    assert.ok(m.get('evident_gate_decision_seconds_count')! >= 5);
    assert.ok(m.has('evident_gate_decision_seconds_bucket{le="0.005"}'));
    assert.equal(m.get('evident_gate_store_errors_total'), 0);
    assert.ok(m.get('evident_gate_requests_total{endpoint="/v1/admit",status="400"}')! >= 1);
    for (const path of ['/healthz', '/readyz']) assert.equal((await call(gate.url, path)).status, 200);
    assert.deepEqual((await call(gate.url, '/readyz')).json().policies, ['root.layout']);
  });
});

describe('gate serve when the store stops mid-run (fault test)', () => {
  it('keeps admitting verified digests from the cache and refuses unknown ones, saying the store is unreachable', async () => {
    const world = await gateWorld();
    const metrics = new GateMetrics();
    let clock = Date.now();
    const gateCore = new Gate({
      policies: [await policyOf(world)],
      store: new StoreClient({ url: world.store.url }),
      observer: metrics,
      now: () => clock,
      cacheTtlMs: MINUTE,
    });
    const gate = await startGateServer({ gate: gateCore, metrics });
    let storeOpen = true;
    try {
      const before = await admit(gate, { artifact: `registry.example/app@${world.chain.honestProduct}` });
      assert.equal(before.json.allowed, true);
      await world.store.close();
      storeOpen = false;
      clock += 2 * MINUTE; // the fresh verdict has aged: the gate must ask the store, which is gone

      const honest = await admit(gate, { artifact: `registry.example/app@${world.chain.honestProduct}` });
      assert.equal(honest.status, 200);
      assert.equal(honest.json.allowed, true);
      assert.equal(honest.json.basis, 'stale');
      assert.match((honest.json.warnings as string[])[0]!, /could not be asked .*connection refused/);

      const unknown = await admit(gate, { artifact: UNKNOWN });
      assert.equal(unknown.json.allowed, false);
      assert.match((unknown.json.reasons as string[])[0]!, /the evidence store cannot be reached.*refused \(the gate fails closed\)/);

      const m = parseMetrics((await call(gate.url, '/metrics')).body.toString());
      assert.equal(m.get('evident_gate_store_errors_total'), 2);
      assert.equal(m.get('evident_gate_cache_total{result="stale"}'), 1);
      assert.equal(m.get('evident_gate_verdicts_total{outcome="allowed",basis="stale"}'), 1);
      assert.equal((await call(gate.url, '/readyz')).status, 200, 'readiness does not follow the store');
    } finally {
      await gate.close();
      if (storeOpen) await world.store.close();
      rmSync(world.dir, { recursive: true, force: true });
    }
  });
});

describe('gate serve over HTTPS', () => {
  it('serves with --tls-cert/--tls-key files; the two TLS sources do not go together', async () => {
    const world = await gateWorld();
    const ca = await makeCa('gate.test', new Date());
    const svid = (await makeSvid(ca, '/gate', { now: new Date() })).marshal();
    const tlsCert = join(world.dir, 'gate.pem');
    const tlsKey = join(world.dir, 'gate.key');
    writeFileSync(tlsCert, svid.certificates);
    writeFileSync(tlsKey, svid.privateKey);
    const metrics = new GateMetrics();
    const core = new Gate({ policies: [await policyOf(world)], store: new StoreClient({ url: world.store.url }), observer: metrics });
    try {
      await assert.rejects(startGateServer({ gate: core, metrics, tlsCert }), /--tls-cert and --tls-key go together/);
      const gate = await startGateServer({ gate: core, metrics, tlsCert, tlsKey });
      try {
        assert.match(gate.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        const r = await call(gate.url, '/v1/admit', { body: JSON.stringify({ artifact: world.chain.honestProduct }), tls: { ca: ca.pem } });
        assert.equal(r.json().allowed, true);
      } finally {
        await gate.close();
      }
    } finally {
      await world.store.close();
      rmSync(world.dir, { recursive: true, force: true });
    }
  });
});
