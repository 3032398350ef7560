import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { adminRequest, IdentityServer, resolveServerConfig } from '../../../src/identity/server/index.js';
import { AgentApiClient } from '../../../src/identity/proto/index.js';
import { TD } from './helpers.js';
import { dropSchema, PG_URL, pgSchemaOrSkip } from './pg-fixture.js';
import { newKey } from './server-fixture.js';

describe('two servers sharing one PostgreSQL datastore', () => {
  let schema: string | undefined;
  const servers: IdentityServer[] = [];
  const dirs: string[] = [];
  before(async () => {
    schema = await pgSchemaOrSkip();
    if (schema === undefined) return;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.end();
    const url = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    for (let i = 0; i < 2; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'evident-pg-srv-'));
      dirs.push(dir);
      const config = resolveServerConfig({ flags: { trust_domain: TD, data_dir: dir, bind: '127.0.0.1:0', datastore: url }, file: {}, env: {} }, dir);
      servers.push(await IdentityServer.start({ config }));
    }
  });
  after(async () => {
    for (const s of servers) await s.stop(1000);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    if (schema !== undefined) await dropSchema(schema);
  });

  it('share the CA, and a join token attests exactly one agent however the servers race', async (t) => {
    if (schema === undefined) return t.skip('PostgreSQL is not reachable');
    const [a, b] = servers as [IdentityServer, IdentityServer];
    assert.deepEqual(a.ca.bundle().x509Authorities, b.ca.bundle().x509Authorities, 'the second server uses the first one\'s CA');
    const clients = servers.map((s) => new AgentApiClient({ address: s.agentApiAddress, trustDomain: TD, trustBundle: s.ca.bundle().x509Authorities }));
    try {
      for (let round = 0; round < 3; round++) {
        const token = ((await adminRequest(a.config.adminSocket, 'POST', '/v1/join-tokens', {})).body as { token: string }).token;
        const tries = Array.from({ length: 8 }, (_, i) =>
          clients[i % 2]!.attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: newKey().spki } }).then(() => 'ok', (e: Error) => e.message));
        const results = await Promise.all(tries);
        assert.equal(results.filter((x) => x === 'ok').length, 1, results.join('\n'));
        assert.ok(results.filter((x) => x !== 'ok').every((m) => /already used/.test(m)), results.join('\n'));
      }
    } finally {
      for (const c of clients) c.close();
    }
  });
});
