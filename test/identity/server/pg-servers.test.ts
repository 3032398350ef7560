import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startServer, type TestServer } from '../../helpers/identity-server.js';
import { ecKey } from '../../helpers/pki.js';
import { dropSchema, PG_URL, pgSchemaOrSkip } from './pg-fixture.js';

describe('two servers sharing one PostgreSQL datastore', () => {
  let schema: string | undefined;
  const servers: TestServer[] = [];
  before(async () => {
    schema = await pgSchemaOrSkip();
    if (schema === undefined) return;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.end();
    const url = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    for (let i = 0; i < 2; i++) servers.push(await startServer({ settings: { datastore: url } }));
  });
  after(async () => {
    for (const s of servers) await s.close();
    if (schema !== undefined) await dropSchema(schema);
  });

  it('share the CA, and a join token attests exactly one agent however the servers race', async (t) => {
    if (schema === undefined) return t.skip('PostgreSQL is not reachable');
    const [a, b] = servers as [TestServer, TestServer];
    assert.deepEqual(a.roots(), b.roots(), "the second server uses the first one's CA");
    const clients = servers.map((s) => s.anonymous());
    for (let round = 0; round < 3; round++) {
      const token = await a.joinToken();
      const tries = Array.from({ length: 8 }, (_, i) =>
        clients[i % 2]!.attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: ecKey().spki } }).then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      );
      const results = await Promise.all(tries);
      assert.equal(results.filter((x) => x === 'ok').length, 1, results.join('\n'));
      assert.ok(
        results.filter((x) => x !== 'ok').every((m) => /already used/.test(m)),
        results.join('\n'),
      );
    }
  });
});
