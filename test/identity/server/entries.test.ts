import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EntryValidationError, validateEntry } from '../../../src/identity/server/entries/index.js';
import { parseSelector, selectorsSubset } from '../../../src/identity/server/entries/index.js';
import { caEnv, TD } from './helpers.js';

describe('registration entry validation', () => {
  it('refuses a spiffe_id in the reserved /evident/ namespace (it would pass as the server or an agent)', async () => {
    const env = await caEnv();
    try {
      for (const id of [`spiffe://${TD}/evident/server`, `spiffe://${TD}/evident/agent/join_token/someone`, `spiffe://${TD}/evident`]) {
        const err = await validateEntry({ spiffe_id: id, parent_id: `spiffe://${TD}/p`, selectors: ['unix:uid:0'] }, TD, env.ds, 0).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof EntryValidationError, id);
        assert.deepEqual(
          err.problems.map((p) => p.field),
          ['spiffe_id'],
        );
        assert.match(err.problems[0]!.message, /reserved/);
      }
      // Parenting to an agent or the server stays allowed, and a look-alike path is not reserved.
      await validateEntry(
        { spiffe_id: `spiffe://${TD}/evident-app`, parent_id: `spiffe://${TD}/evident/agent/join_token/x`, selectors: ['unix:uid:0'] },
        TD,
        env.ds,
        0,
      );
    } finally {
      await env.close();
    }
  });

  it('accepts a good entry and fills defaults', async () => {
    const env = await caEnv();
    try {
      const e = await validateEntry(
        { spiffe_id: `spiffe://${TD}/a`, parent_id: `spiffe://${TD}/p`, selectors: ['unix:uid:1000'] },
        TD,
        env.ds,
        5,
      );
      assert.deepEqual(e.selectors, [{ type: 'unix', value: 'uid:1000' }]);
      assert.equal(e.x509SvidTtl, 0);
      assert.equal(e.admin, false);
      assert.equal(e.createdAt, 5);
    } finally {
      await env.close();
    }
  });

  it('collects every bad field before failing', async () => {
    const env = await caEnv();
    try {
      const err = await validateEntry(
        {
          spiffe_id: 'spiffe://Other.org/a',
          parent_id: 'spiffe://other.org/p',
          selectors: [],
          x509_svid_ttl: -1,
          jwt_svid_ttl: 'x',
          dns_names: ['bad name'],
          hint: 3,
          admin: 'yes',
        },
        TD,
        env.ds,
        0,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof EntryValidationError);
      assert.deepEqual(
        err.problems.map((p) => p.field),
        ['spiffe_id', 'parent_id', 'selectors', 'x509_svid_ttl', 'jwt_svid_ttl', 'dns_names', 'hint', 'admin'],
      );
      assert.match(err.problems[0]!.message, /invalid SPIFFE ID/);
      assert.match(err.problems[1]!.message, /trust domain 'other\.org', not 'example\.org'/);
      assert.equal(err.code, 'BAD_INPUT');
      assert.ok(!err.message.includes('\n'));
    } finally {
      await env.close();
    }
  });

  it('refuses bad selectors, a missing ID, a self-parent, a trust-domain-only ID, and duplicates', async () => {
    const env = await caEnv();
    try {
      const fields = async (input: Record<string, unknown>) =>
        (
          (await validateEntry(input, TD, env.ds, 0).then(
            () => undefined,
            (e: unknown) => e,
          )) as EntryValidationError
        ).problems.map((p) => `${p.field}: ${p.message}`);
      assert.match(
        (await fields({ parent_id: `spiffe://${TD}/p`, selectors: ['unix'] })).join('|'),
        /spiffe_id: is required\|selectors: 'unix' is not TYPE:VALUE/,
      );
      assert.match(
        (await fields({ spiffe_id: `spiffe://${TD}/p`, parent_id: `spiffe://${TD}/p`, selectors: ['unix:uid:1'] })).join(),
        /own parent/,
      );
      assert.match(
        (await fields({ spiffe_id: `spiffe://${TD}`, parent_id: `spiffe://${TD}/p`, selectors: ['unix:uid:1'] })).join(),
        /has no path/,
      );
      assert.match(
        (await fields({ spiffe_id: `spiffe://${TD}/a`, parent_id: `spiffe://${TD}/p`, selectors: ['unix:uid:1', 'unix:uid:1'] })).join(),
        /repeated/,
      );
      assert.match(
        (await fields({ spiffe_id: `spiffe://${TD}/a/../b`, parent_id: `spiffe://${TD}/p`, selectors: ['unix:uid:1'] })).join(),
        /dot segment/,
      );
      const good = await validateEntry(
        { spiffe_id: `spiffe://${TD}/a`, parent_id: `spiffe://${TD}/p`, selectors: ['unix:uid:1', 'unix:gid:2'] },
        TD,
        env.ds,
        0,
      );
      await env.ds.entries.create(good);
      assert.match(
        (await fields({ spiffe_id: `spiffe://${TD}/a`, parent_id: `spiffe://${TD}/p`, selectors: ['unix:gid:2', 'unix:uid:1'] })).join(),
        /duplicate of entry/,
      );
      // updating an entry to itself is not a duplicate
      const same = await validateEntry({ hint: 'h' }, TD, env.ds, 0, good);
      assert.equal(same.hint, 'h');
      assert.deepEqual(same.selectors, good.selectors);
    } finally {
      await env.close();
    }
  });

  it('selectors: parse TYPE:VALUE and subset matching', () => {
    assert.deepEqual(parseSelector('unix:uid:1000'), { type: 'unix', value: 'uid:1000' });
    assert.equal(parseSelector(':x'), undefined);
    assert.equal(parseSelector('x:'), undefined);
    const s = (t: string, v: string) => ({ type: t, value: v });
    assert.equal(selectorsSubset([s('a', '1')], [s('a', '1'), s('b', '2')]), true);
    assert.equal(selectorsSubset([s('a', '1'), s('c', '3')], [s('a', '1'), s('b', '2')]), false);
  });
});
