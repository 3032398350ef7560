import { generateKeyPairSync } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SvidCache } from '../../../src/identity/agent/cache.js';
import { AgentDataDir } from '../../../src/identity/agent/identity-store.js';
import { readTrustBundleFile, trustDomainOfCa } from '../../../src/identity/agent/trust-bundle.js';
import { selectorsSubsetOf, type ServedEntry } from '../../../src/identity/agent/workloadapi/index.js';
import { EvidentError } from '../../../src/errors.js';
import { testAuthority } from './authority.js';
import { openTempDir } from './helpers.js';

const sel = (...v: string[]) => v.map((value) => ({ type: 'unix', value }));
const entry = (id: string, selectors: string[], createdAt = 0): ServedEntry => ({
  id,
  spiffeId: `spiffe://example.org/${id}`,
  selectors: sel(...selectors),
  hint: '',
  createdAt,
});

describe('SvidCache', () => {
  it('a subscriber that throws does not keep the others from being told of a change, and is reported', () => {
    const errors: unknown[] = [];
    const c = new SvidCache({ onListenerError: (e) => errors.push(e) });
    const told: string[] = [];
    c.subscribe(() => told.push('first'));
    c.subscribe(() => {
      throw new Error('a stream whose client went away');
    });
    c.subscribe(() => told.push('third'));
    c.setEntries([entry('a', ['uid:0'])]);
    assert.deepEqual(told, ['first', 'third']);
    assert.equal((errors[0] as Error).message, 'a stream whose client went away');
  });

  it("matches an entry when all its selectors are the workload's, oldest entry first; no selectors matches nobody", () => {
    assert.equal(selectorsSubsetOf(sel('uid:0'), sel('uid:0', 'gid:0')), true);
    assert.equal(selectorsSubsetOf(sel('uid:0', 'gid:1'), sel('uid:0', 'gid:0')), false);
    assert.equal(selectorsSubsetOf([], sel('uid:0')), false);
    assert.equal(selectorsSubsetOf([{ type: 'docker', value: 'uid:0' }], sel('uid:0')), false);
    const c = new SvidCache();
    c.setEntries([entry('b', ['uid:0'], 2), entry('a', ['uid:0', 'gid:0'], 1), entry('c', ['uid:1'], 0)]);
    assert.deepEqual(
      c.matchEntries(sel('uid:0', 'gid:0', 'path:/bin/x')).map((e) => e.id),
      ['a', 'b'],
    );
  });

  it('finds through its index exactly what a scan of every entry finds, in the same order (hundreds of entries, other types, no selectors)', () => {
    const pool = ['uid:0', 'uid:1', 'gid:0', 'gid:7', 'path:/bin/x', 'sha256:ab', 'user:root'];
    let seed = 7;
    const pick = (): string => pool[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % pool.length]!;
    const entries = Array.from({ length: 400 }, (_, i) => {
      const e = entry(`e${i}`, Array.from({ length: i % 4 }, pick), (i * 37) % 101);
      return i % 9 === 0 ? { ...e, selectors: [{ type: 'docker', value: pick() }, ...e.selectors] } : e;
    });
    const c = new SvidCache();
    c.setEntries(entries);
    const byAge = c.listEntries();
    for (let n = 0; n < 200; n++) {
      const caller = [...new Set(Array.from({ length: 1 + (n % 5) }, pick))].map((value) => ({ type: 'unix', value }));
      if (n % 7 === 0) caller.push({ type: 'docker', value: pick() });
      const scanned = byAge.filter((e) => selectorsSubsetOf(e.selectors, caller)).map((e) => e.id);
      assert.deepEqual(
        c.matchEntries(caller).map((e) => e.id),
        scanned,
        JSON.stringify(caller),
      );
    }
  });

  it('batches changes into one notification, drops SVIDs of removed entries, never serves an expired SVID', async () => {
    const ca = await testAuthority();
    let now = Date.now();
    const c = new SvidCache({ clock: { now: () => now } });
    let notified = 0;
    const unsubscribe = c.subscribe(() => notified++);
    const e1 = entry('e1', ['uid:0']);
    const svid = await ca.issue(e1, 60);
    c.update(() => {
      c.setEntries([e1]);
      c.setX509Svid(svid);
      c.setBundles(ca.bundles());
    });
    assert.equal(notified, 1);
    assert.equal(c.x509Svid('e1'), svid);
    now = svid.expiresAt.getTime() + 1;
    assert.equal(c.x509Svid('e1'), undefined);
    now = Date.now();
    c.setEntries([]);
    assert.equal(notified, 2);
    assert.equal(c.x509Svid('e1'), undefined);
    unsubscribe();
    c.setEntries([e1]);
    assert.equal(notified, 2);
  });

  it('caches a JWT-SVID per entry and audience until half its life, then asks the signer again', async () => {
    let now = 1_000_000;
    let signed = 0;
    const c = new SvidCache({
      clock: { now: () => now },
      jwtSigner: async (_e, aud) => ({ token: `t${++signed}:${aud.join(',')}`, expiresAt: new Date(now + 300_000) }),
    });
    const e = entry('e', ['uid:0']);
    assert.equal((await c.jwtSvid(e, ['a', 'b'])).token, 't1:a,b');
    assert.equal((await c.jwtSvid(e, ['b', 'a'])).token, 't1:a,b'); // same audience set
    assert.equal((await c.jwtSvid(e, ['c'])).token, 't2:c');
    now += 149_000;
    assert.equal((await c.jwtSvid(e, ['a', 'b'])).token, 't1:a,b');
    now += 2_000;
    assert.equal((await c.jwtSvid(e, ['a', 'b'])).token, 't3:a,b');
    await assert.rejects(new SvidCache().jwtSvid(e, ['a']), /no JWT-SVID signer/);
  });
});

describe('agent data dir and trust bundle', () => {
  it('stores the agent SVID with its key 0600 and loads it back; a key that does not match is ignored', async () => {
    const d = await openTempDir('evident-agent-data-');
    try {
      const ca = await testAuthority('example.org');
      const issued = await ca.issue(entry('agent', ['x:y']));
      const { createPrivateKey } = await import('node:crypto');
      const privateKey = createPrivateKey({ key: issued.privateKey, format: 'der', type: 'pkcs8' });
      const store = new AgentDataDir(join(d.dir, 'nested', 'data'));
      await store.init();
      assert.equal((await stat(join(d.dir, 'nested'))).mode & 0o777, 0o755, 'parents are not made private');
      assert.equal(await store.loadIdentity(Date.now()), undefined);
      await store.saveIdentity({
        spiffeId: issued.spiffeId,
        certChain: [issued.certChain],
        privateKey,
        notAfter: issued.expiresAt.getTime(),
        issuedAt: Date.now(),
      });
      assert.equal((await stat(join(store.dir, 'agent-svid.key'))).mode & 0o777, 0o600);
      const back = await store.loadIdentity(Date.now());
      assert.equal(back?.spiffeId, issued.spiffeId);
      assert.equal(back?.notAfter, Math.floor(issued.expiresAt.getTime() / 1000) * 1000);
      await writeFile(
        join(store.dir, 'agent-svid.key'),
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      );
      assert.equal(await store.loadIdentity(Date.now()), undefined);
      await store.saveBundle(ca.cas.map((c) => Buffer.from(c.cert.rawData)));
      assert.equal((await store.loadBundle())?.length, 1);
      assert.match(await readFile(join(store.dir, 'bundle.pem'), 'utf8'), /BEGIN CERTIFICATE/);
    } finally {
      await d.cleanup();
    }
  });

  it('an agent killed while it saves a renewed SVID (the new key written, the SVID not yet) comes back with the SVID before', async () => {
    const d = await openTempDir('evident-agent-renewal-');
    try {
      const ca = await testAuthority('example.org');
      const { createPrivateKey } = await import('node:crypto');
      const identity = async () => {
        const issued = await ca.issue(entry('agent', ['x:y']));
        const privateKey = createPrivateKey({ key: issued.privateKey, format: 'der', type: 'pkcs8' });
        return {
          spiffeId: issued.spiffeId,
          certChain: [issued.certChain],
          privateKey,
          notAfter: issued.expiresAt.getTime(),
          issuedAt: Date.now(),
        };
      };
      const store = new AgentDataDir(join(d.dir, 'data'));
      await store.init();
      const before = await identity();
      await store.saveIdentity(before);
      // the renewal's steps up to the kill: the current key moved aside, the new key in its place, the SVID still the old one
      const renewed = await identity();
      await rename(join(store.dir, 'agent-svid.key'), join(store.dir, 'agent-svid.previous.key'));
      await writeFile(join(store.dir, 'agent-svid.key'), renewed.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const back = await store.loadIdentity(Date.now());
      assert.deepEqual(back?.certChain, before.certChain, 'the stored SVID, with the key that is its own');
      assert.deepEqual(
        back?.privateKey.export({ type: 'pkcs8', format: 'der' }),
        before.privateKey.export({ type: 'pkcs8', format: 'der' }),
      );
      // killed right after the key was moved aside: the same
      await rm(join(store.dir, 'agent-svid.key'));
      assert.deepEqual((await store.loadIdentity(Date.now()))?.certChain, before.certChain);
      // a save that completes leaves the renewed pair and nothing aside
      await store.saveIdentity(renewed);
      assert.deepEqual((await store.loadIdentity(Date.now()))?.certChain, renewed.certChain);
      await assert.rejects(stat(join(store.dir, 'agent-svid.previous.key')), /ENOENT/);
    } finally {
      await d.cleanup();
    }
  });

  it("reads the trust domain from the bundle's CA and refuses a file without certificates", async () => {
    const d = await openTempDir('evident-agent-tb-');
    try {
      const ca = await testAuthority('corp.example');
      const der = Buffer.from(ca.cas[0]!.cert.rawData);
      assert.equal(trustDomainOfCa(der), 'corp.example');
      await writeFile(join(d.dir, 'b.pem'), ca.cas[0]!.cert.toString('pem'));
      const tb = await readTrustBundleFile(join(d.dir, 'b.pem'));
      assert.equal(tb.trustDomain, 'corp.example');
      assert.deepEqual(tb.roots, [der]);
      await writeFile(join(d.dir, 'bad.pem'), 'no certs');
      await assert.rejects(
        readTrustBundleFile(join(d.dir, 'bad.pem')),
        (e: unknown) => e instanceof EvidentError && e.code === 'BAD_INPUT' && e.file === join(d.dir, 'bad.pem'),
      );
    } finally {
      await d.cleanup();
    }
  });
});
