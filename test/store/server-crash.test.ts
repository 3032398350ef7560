/**
 * An acknowledged upload survives `kill -9` of `evident store serve` in the middle of concurrent uploads:
 * the store answers 201 only after the commit (SQLite: WAL synced at every commit; PostgreSQL: its own
 * commit), so every digest a client was told is stored is there after a restart.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { dropSchema, PG_URL, pgSchemaOrSkip } from '../identity/server/pg-fixture.js';
import { ensureBuilt, REPO_ROOT, startEvident, type EvidentProcess } from '../helpers/evident-process.js';
import { call, edKey, hex, link, linkFile, tokenDir } from './server-fixtures.js';

const TOKEN = 'crash-test-token';

before(() => ensureBuilt());

/** `evident store serve` on a free port; its URL once it says it is serving (or a failure after 20 s). */
async function serve(args: string[]): Promise<{ store: EvidentProcess; url: string }> {
  const store = startEvident([join(REPO_ROOT, 'bin', 'evident')], ['store', 'serve', '--bind', '127.0.0.1:0', ...args], REPO_ROOT);
  await store.waitFor(/evident store: serving http:\/\/\S+/);
  return { store, url: /evident store: serving (http:\/\/\S+)/.exec(store.stderr())![1]! };
}

async function crashDuringUploads(args: string[]): Promise<void> {
  const alice = edKey();
  const first = await serve(args);
  const acknowledged = new Map<string, Buffer>();
  let refused = 0;
  let n = 0;
  const uploader = async () => {
    for (;;) {
      const i = n++;
      const bytes = linkFile(link(`step${i}`, {}, { [`out${i}`]: hex(`crash${i}`) }), [alice]);
      try {
        const r = await call(first.url, '/v1/evidence', { body: bytes, token: TOKEN });
        if (r.status === 201) acknowledged.set((r.json() as { digest: string }).digest, bytes);
        else refused++;
      } catch {
        return; // the server is gone
      }
    }
  };
  const uploaders = Array.from({ length: 8 }, uploader);
  // the kill comes mid-stream: after a count of acknowledgements, not after a time (a loaded machine acknowledges fewer)
  const deadline = Date.now() + 60_000;
  while (acknowledged.size < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await first.store.stop('SIGKILL');
  await Promise.all(uploaders);
  assert.equal(refused, 0);
  assert.ok(acknowledged.size >= 20, `only ${acknowledged.size} uploads were acknowledged before the kill`);

  const second = await serve(args);
  try {
    let missing = 0;
    for (const [digest, bytes] of acknowledged) {
      const r = await call(second.url, `/v1/evidence/${digest}`);
      if (r.status !== 200 || !r.body.equals(bytes)) missing++;
    }
    assert.equal(missing, 0, `${missing} of ${acknowledged.size} acknowledged uploads were lost`);
    // and the index rows came with them: an upload's rows are in one transaction (group commit puts several uploads in it)
    const some = [...acknowledged.values()][0]!;
    const name = (JSON.parse(some.toString()) as { signed: { name: string } }).signed.name;
    const items = (await call(second.url, `/v1/evidence?step=${name}`)).json().items as unknown[];
    assert.equal(items.length, 1);
    process.stderr.write(`# store crash test: ${acknowledged.size} acknowledged uploads, all there after kill -9 and restart\n`);
  } finally {
    await second.store.stop();
  }
}

describe('evidence store: kill -9 during concurrent uploads loses no acknowledged upload', () => {
  it('with SQLite', async () => {
    const { dir, tokenFile } = tokenDir([TOKEN]);
    try {
      await crashDuringUploads(['--data-dir', dir, '--token-file', tokenFile]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with PostgreSQL', async (t) => {
    const schema = await pgSchemaOrSkip();
    if (schema === undefined) return t.skip('no PostgreSQL');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.end();
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const { dir, tokenFile } = tokenDir([TOKEN]);
    try {
      await crashDuringUploads(['--datastore', url.toString(), '--token-file', tokenFile]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await dropSchema(schema);
    }
  });
});
