import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it, before, after } from 'node:test';
import type { CaKey, Datastore, RegistrationEntry } from '../../../src/identity/server/datastore/index.js';

/** A place holding one datastore; `open` may be called several times for several connections to it. */
export interface DatastoreFixture {
  open(): Promise<Datastore>;
  cleanup(): Promise<void>;
}

function entry(over: Partial<RegistrationEntry> = {}): RegistrationEntry {
  return {
    id: randomUUID(),
    spiffeId: 'spiffe://example.org/workload',
    parentId: 'spiffe://example.org/evident/agent/join_token/abc',
    selectors: [{ type: 'unix', value: 'uid:1000' }],
    x509SvidTtl: 0,
    jwtSvidTtl: 0,
    dnsNames: [],
    hint: '',
    admin: false,
    createdAt: 1_700_000_000_000,
    revision: 0,
    ...over,
  };
}

function caKey(over: Partial<CaKey> = {}): CaKey {
  return {
    id: randomUUID(),
    kind: 'x509',
    status: 'active',
    notBefore: 1000,
    notAfter: 2000,
    certPem: 'CERT',
    privateKeyPem: 'KEY',
    publicJwk: '{}',
    createdAt: 1000,
    ...over,
  };
}

/**
 * The one contract every datastore passes (SPIRE's habit): run by each implementation's test file.
 * `create` returns undefined (after saying why, loudly) when the backend is not available here.
 */
export function runDatastoreContract(name: string, create: () => Promise<DatastoreFixture | undefined>): void {
  describe(`datastore contract: ${name}`, () => {
    let fx: DatastoreFixture | undefined;
    let ds: Datastore;
    before(async () => {
      fx = await create();
      if (fx) ds = await fx.open();
    });
    after(async () => {
      if (fx) {
        await ds.close();
        await fx.cleanup();
      }
    });
    const test = (title: string, fn: () => Promise<void>) =>
      it(title, async (t) => {
        if (!fx) return t.skip(`${name} is not available`);
        await fn();
      });

    test('entries: create, fetch, list, update, delete, count', async () => {
      const e = await ds.entries.create(entry({ dnsNames: ['a.example'], hint: 'h', admin: true, x509SvidTtl: 60 }));
      assert.deepEqual(await ds.entries.fetch(e.id), e);
      assert.equal(e.admin, true);
      assert.deepEqual(e.dnsNames, ['a.example']);
      const other = await ds.entries.create(entry({ spiffeId: 'spiffe://example.org/other', parentId: 'spiffe://example.org/p' }));
      assert.equal(await ds.entries.count(), 2);
      assert.deepEqual(
        (await ds.entries.list({ parentId: 'spiffe://example.org/p' })).map((x) => x.id),
        [other.id],
      );
      assert.deepEqual(
        (await ds.entries.list({ spiffeId: e.spiffeId })).map((x) => x.id),
        [e.id],
      );
      const upd = await ds.entries.update({ ...e, hint: 'new', selectors: [{ type: 'unix', value: 'uid:0' }] });
      assert.equal(upd?.hint, 'new');
      assert.equal(upd?.revision, e.revision + 1);
      assert.deepEqual(upd?.selectors, [{ type: 'unix', value: 'uid:0' }]);
      assert.equal(await ds.entries.update(entry()), undefined, 'update of a missing entry');
      assert.equal(await ds.entries.delete(e.id), true);
      assert.equal(await ds.entries.delete(e.id), false);
      assert.equal(await ds.entries.fetch(e.id), undefined);
      assert.equal(await ds.entries.delete(other.id), true);
      assert.equal(await ds.entries.count(), 0);
    });

    test('entries: a duplicate (same spiffe_id, parent_id, selectors in any order) is refused', async () => {
      const sel = [
        { type: 'unix', value: 'uid:1' },
        { type: 'unix', value: 'gid:2' },
      ];
      const a = await ds.entries.create(entry({ selectors: sel }));
      await assert.rejects(ds.entries.create(entry({ selectors: [...sel].reverse() })), /same spiffe_id, parent_id and selectors/);
      const b = await ds.entries.create(entry({ selectors: [sel[0]!] }));
      await assert.rejects(ds.entries.update({ ...b, selectors: sel }), /same spiffe_id/);
      await ds.entries.delete(a.id);
      await ds.entries.delete(b.id);
    });

    test('agents: create, fetch, update, list, prune, delete', async () => {
      const a = await ds.agents.create({
        spiffeId: 'spiffe://example.org/evident/agent/join_token/t1',
        attestationType: 'join_token',
        selectors: [{ type: 'x509pop', value: 'subject:cn:node1' }],
        certSerial: '01',
        certNotAfter: 5000,
        newCertSerial: '',
        newCertNotAfter: 0,
        canReattest: false,
        createdAt: 1,
        updatedAt: 1,
      });
      assert.deepEqual(await ds.agents.fetch(a.spiffeId), a);
      const u = await ds.agents.update({
        ...a,
        certSerial: '02',
        certNotAfter: 9000,
        newCertSerial: '03',
        newCertNotAfter: 12000,
        updatedAt: 2,
      });
      assert.deepEqual([u?.certSerial, u?.certNotAfter, u?.newCertSerial, u?.newCertNotAfter], ['02', 9000, '03', 12000]);
      assert.deepEqual(await ds.agents.fetch(a.spiffeId), u);
      // promoting the pending SVID is conditional on it still being the pending one
      assert.equal((await ds.agents.promote(a.spiffeId, '99', 3))?.certSerial, '02', 'another serial promotes nothing');
      const p = await ds.agents.promote(a.spiffeId, '03', 3);
      assert.deepEqual([p?.certSerial, p?.certNotAfter, p?.newCertSerial, p?.newCertNotAfter, p?.updatedAt], ['03', 12000, '', 0, 3]);
      assert.equal((await ds.agents.promote(a.spiffeId, '', 4))?.certSerial, '03', 'nothing pending, nothing promoted');
      assert.equal(await ds.agents.promote('spiffe://example.org/evident/agent/join_token/none', '03', 4), undefined);
      await ds.agents.create({ ...a, spiffeId: 'spiffe://example.org/evident/agent/join_token/t2', certNotAfter: 100 });
      // expired, but renewed to an SVID it has not used yet: kept
      await ds.agents.create({
        ...a,
        spiffeId: 'spiffe://example.org/evident/agent/join_token/t3',
        certNotAfter: 100,
        newCertSerial: '04',
        newCertNotAfter: 2000,
      });
      assert.equal(await ds.agents.count(), 3);
      assert.equal(await ds.agents.prune(1000), 1);
      assert.deepEqual(
        (await ds.agents.list()).map((x) => x.spiffeId),
        [a.spiffeId, 'spiffe://example.org/evident/agent/join_token/t3'],
      );
      await ds.agents.delete('spiffe://example.org/evident/agent/join_token/t3');
      assert.equal(await ds.agents.delete(a.spiffeId), true);
      assert.equal(await ds.agents.fetch(a.spiffeId), undefined);
    });

    test('join tokens: single use, expiry, unknown, prune', async () => {
      await ds.joinTokens.create({ token: 'tok-a', expiresAt: 10_000, usedAt: null });
      await ds.joinTokens.create({ token: 'tok-b', expiresAt: 10_000, usedAt: null });
      assert.equal((await ds.joinTokens.fetch('tok-a'))?.usedAt, null);
      const first = await ds.joinTokens.use('tok-a', 5000);
      assert.equal(first.ok, true);
      assert.deepEqual(await ds.joinTokens.use('tok-a', 5001), { ok: false, reason: 'used' });
      assert.deepEqual(await ds.joinTokens.use('tok-b', 10_000), { ok: false, reason: 'expired' });
      assert.deepEqual(await ds.joinTokens.use('nope', 1), { ok: false, reason: 'unknown' });
      assert.equal((await ds.joinTokens.fetch('tok-a'))?.usedAt, 5000);
      assert.equal(await ds.joinTokens.count(), 2);
      assert.equal(await ds.joinTokens.prune(20_000), 2);
      assert.equal((await ds.joinTokens.list()).length, 0);
    });

    test('join tokens: of many racing uses through two connections, exactly one wins', async () => {
      const other = await fx!.open();
      try {
        for (let round = 0; round < 5; round++) {
          const token = `race-${round}-${randomUUID()}`;
          await ds.joinTokens.create({ token, expiresAt: Date.now() + 60_000, usedAt: null });
          const tries = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? ds : other).joinTokens.use(token, Date.now()));
          const results = await Promise.all(tries);
          assert.equal(results.filter((r) => r.ok).length, 1, `round ${round}: ${JSON.stringify(results)}`);
          assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.reason === 'used'));
        }
      } finally {
        await other.close();
      }
    });

    test('CA keys: one prepared and one active per kind, atomic activation, prune', async () => {
      const a = caKey();
      assert.deepEqual(await ds.caKeys.create(a), a);
      assert.equal(await ds.caKeys.create(caKey()), undefined, 'a second active x509 key');
      assert.ok(await ds.caKeys.create(caKey({ kind: 'jwt' })), 'the jwt kind is separate');
      const p = caKey({ status: 'prepared', notBefore: 1500, notAfter: 3000 });
      assert.ok(await ds.caKeys.create(p));
      assert.equal(await ds.caKeys.create(caKey({ status: 'prepared' })), undefined, 'a second prepared key');
      assert.equal(await ds.caKeys.activate('x509', p.id), true);
      assert.equal(await ds.caKeys.activate('x509', p.id), false, 'no longer prepared');
      assert.equal((await ds.caKeys.fetch(a.id))?.status, 'old');
      assert.equal((await ds.caKeys.fetch(p.id))?.status, 'active');
      assert.deepEqual(
        (await ds.caKeys.list('x509')).map((k) => k.id),
        [a.id, p.id],
      );
      assert.equal(await ds.caKeys.count(), 3);
      assert.equal(await ds.caKeys.prune(2500), 2, 'the old x509 key and the jwt key expired');
      assert.deepEqual(
        (await ds.caKeys.list()).map((k) => k.id),
        [p.id],
      );
      assert.equal(await ds.caKeys.delete(p.id), true);
    });

    test('bundles: update bumps the sequence', async () => {
      const b1 = await ds.bundles.update('example.org', '{"keys":[]}', 10);
      assert.equal(b1.sequence, 1);
      const b2 = await ds.bundles.update('example.org', '{"keys":[1]}', 20);
      assert.equal(b2.sequence, 2);
      assert.deepEqual(await ds.bundles.fetch('example.org'), {
        trustDomain: 'example.org',
        data: '{"keys":[1]}',
        sequence: 2,
        updatedAt: 20,
      });
      await ds.bundles.create({ trustDomain: 'other.org', data: '{}', sequence: 7, updatedAt: 1 });
      assert.equal(await ds.bundles.count(), 2);
      assert.equal((await ds.bundles.list()).length, 2);
      assert.equal(await ds.bundles.delete('other.org'), true);
      assert.equal(await ds.bundles.delete('example.org'), true);
    });

    test('a reopened datastore still has everything', async () => {
      const e = await ds.entries.create(entry({ spiffeId: 'spiffe://example.org/persisted' }));
      await ds.joinTokens.create({ token: 'persist', expiresAt: Date.now() + 60_000, usedAt: null });
      await ds.joinTokens.use('persist', Date.now());
      const again = await fx!.open();
      try {
        assert.deepEqual(await again.entries.fetch(e.id), e);
        assert.deepEqual(await again.joinTokens.use('persist', Date.now()), { ok: false, reason: 'used' });
      } finally {
        await again.close();
      }
    });
  });
}
