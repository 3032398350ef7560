/**
 * Group commit (src/sql/group-commit.ts) and the store's write path over it (src/store/evidence-db.ts):
 * concurrent writes share a transaction, each caller gets its own result only after that transaction
 * committed, a failed transaction fails only what it must and the next ones go on, and a digest uploaded
 * twice in one batch is stored once. The store's part runs on real SQLite (and PostgreSQL when present).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dialect, TxBody } from '../../src/sql/dialect.js';
import { GroupCommit } from '../../src/sql/group-commit.js';
import { openPostgresDialect } from '../../src/sql/open-postgres.js';
import { openSqliteDialect } from '../../src/sql/open-sqlite.js';
import { digestOf } from '../../src/store/digest.js';
import { evidenceDbOn, type EvidenceRecord } from '../../src/store/evidence-db.js';
import { parseEvidence } from '../../src/store/evidence.js';
import { gitoidSha256 } from '../../src/store/gitoid.js';
import { STORE_MIGRATIONS, STORE_VERSION_TABLE } from '../../src/store/schema.js';
import { dropSchema, PG_URL, pgSchemaOrSkip } from '../identity/server/pg-fixture.js';
import { edKey, hex, link, linkFile } from './server-fixtures.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A commit that returns only when the test releases it, logging each batch; it answers each item doubled. */
function gated() {
  const batches: number[][] = [];
  const committed: number[] = [];
  const gates: (() => void)[] = [];
  const group = new GroupCommit<number, number>(async (items) => {
    batches.push([...items]);
    await new Promise<void>((resolve) => gates.push(resolve));
    committed.push(...items);
    return items.map((i) => i * 2);
  });
  const release = async () => {
    while (gates.length === 0) await tick();
    gates.shift()!();
  };
  return { group, batches, committed, release };
}

describe('GroupCommit', () => {
  it('writes the items submitted together in one commit, and those arriving during it in the next', async () => {
    const { group, batches, release } = gated();
    const first = Array.from({ length: 20 }, (_, i) => group.submit(i));
    await tick();
    await tick();
    assert.deepEqual(batches, [Array.from({ length: 20 }, (_, i) => i)], 'the 20 submitted in one turn are one batch');
    // submitted while that commit is in flight, in two turns: they wait for it, then go together
    const second = [group.submit(100), group.submit(101)];
    await tick();
    const third = group.submit(102);
    let answered = false;
    void first[0]!.then(() => (answered = true));
    await tick();
    await tick();
    assert.equal(answered, false, 'no caller is answered before its commit returned');
    assert.equal(batches.length, 1, 'one commit in flight at a time');
    await release();
    assert.deepEqual(
      await Promise.all(first),
      Array.from({ length: 20 }, (_, i) => i * 2),
    );
    await release();
    assert.deepEqual(await Promise.all([...second, third]), [200, 202, 204]);
    assert.deepEqual(batches.slice(1), [[100, 101, 102]]);
    await group.close();
  });

  it('answers every caller with its own result, across batches and out of order', async () => {
    const group = new GroupCommit<string, string>(async (items) => {
      await sleep(Math.random() * 5);
      return items.map((s) => s.toUpperCase());
    });
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`);
    const answers = await Promise.all(
      words.map(async (w, i) => {
        if (i % 7 === 0) await sleep(i % 13);
        return group.submit(w);
      }),
    );
    assert.deepEqual(
      answers,
      words.map((w) => w.toUpperCase()),
    );
    await group.close();
  });

  it('caps a batch at maxBatch', async () => {
    const sizes: number[] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length);
      return items;
    }, 8);
    await Promise.all(Array.from({ length: 20 }, (_, i) => group.submit(i)));
    assert.deepEqual(sizes, [8, 8, 4]);
  });

  it('rejects the callers of a failed commit with its error, and the next batches still commit', async () => {
    let failing = true;
    const batches: number[] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      batches.push(items.length);
      await sleep(2);
      if (failing) throw new Error('disk I/O error');
      return items;
    });
    const doomed = await Promise.allSettled([1, 2, 3].map((i) => group.submit(i)));
    assert.deepEqual(
      doomed.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'fulfilled')),
      ['disk I/O error', 'disk I/O error', 'disk I/O error'],
    );
    assert.deepEqual(batches, [3, 1, 1, 1], 'the batch, then each item alone');
    failing = false;
    assert.deepEqual(await Promise.all([4, 5].map((i) => group.submit(i))), [4, 5]);
    assert.deepEqual(batches.slice(4), [2]);
  });

  it('fails only the item that fails its batch: the others are committed on their own', async () => {
    const stored: number[] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      if (items.includes(13)) throw new Error('item 13 breaks a constraint');
      stored.push(...items);
      return items;
    });
    const settled = await Promise.allSettled([11, 12, 13, 14].map((i) => group.submit(i)));
    assert.deepEqual(
      settled.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value)),
      [11, 12, 'item 13 breaks a constraint', 14],
    );
    assert.deepEqual(stored, [11, 12, 14], 'each committed once');
  });

  it('refuses a commit that answers for the wrong number of items', async () => {
    const group = new GroupCommit<number, number>(async (items) => items.slice(1));
    await assert.rejects(Promise.all([group.submit(1), group.submit(2)]), /1 results for 2 items/);
  });

  it('close() waits for what was submitted, then refuses more', async () => {
    const { group, committed, release } = gated();
    const pending = [group.submit(1), group.submit(2)];
    let closed = false;
    const closing = group.close().then(() => (closed = true));
    await tick();
    await tick();
    assert.equal(closed, false, 'not while a commit is in flight');
    await release();
    await closing;
    assert.deepEqual(committed, [1, 2]);
    assert.deepEqual(await Promise.all(pending), [2, 4]);
    await assert.rejects(group.submit(3), /closed/);
  });
});

/** A real dialect whose transactions are counted. */
function counted(real: Dialect): { db: Dialect; transactions: () => number } {
  let n = 0;
  const db = Object.create(real, {
    transaction: { value: <T>(body: TxBody<T>) => (n++, real.transaction(body)) },
  }) as Dialect;
  return { db, transactions: () => n };
}

const alice = edKey();

function record(bytes: Buffer): EvidenceRecord {
  return {
    digest: digestOf(bytes),
    gitoid: gitoidSha256(bytes),
    body: bytes,
    facts: parseEvidence(bytes),
    uploader: 'token:test',
    storedAt: Date.now(),
  };
}

async function storeWritePath(real: Dialect): Promise<void> {
  const { db, transactions } = counted(real);
  const store = evidenceDbOn(db);
  const before = transactions();
  const a = record(linkFile(link('build', { 'main.c': hex('main') }, { app: hex('app') }), [alice]));
  const b = record(linkFile(link('test', { app: hex('app') }, { report: hex('report') }), [alice]));
  // the same bytes twice in one batch, and again in a later one
  const created = await Promise.all([store.put(a), store.put(b), store.put(a)]);
  assert.deepEqual(created, [true, true, false], 'created only for the first of the two');
  assert.equal(transactions() - before, 1, 'three uploads, one transaction');
  assert.equal(await store.put(a), false);
  assert.deepEqual(await store.get(a.digest), Buffer.from(a.body));
  const found = await store.search({ digest: `sha256:${hex('app')}`, limit: 10 });
  assert.deepEqual(found.map((s) => s.digest).sort(), [a.digest, b.digest].sort(), 'each indexed once');
  const many = Array.from({ length: 40 }, (_, i) => record(linkFile(link(`step${i}`, {}, { [`out${i}`]: hex(`o${i}`) }), [alice])));
  const n0 = transactions();
  assert.deepEqual(
    await Promise.all(many.map((r) => store.put(r))),
    many.map(() => true),
  );
  assert.equal(transactions() - n0, 1);
  await store.close();
}

describe('evidence store write path: concurrent uploads in one transaction', () => {
  it('with SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evident-group-commit-'));
    try {
      const real = openSqliteDialect(join(dir, 'evidence.sqlite3'), STORE_MIGRATIONS, {
        versionTable: STORE_VERSION_TABLE,
        synchronous: 'FULL',
      });
      await storeWritePath(real);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with PostgreSQL', async (t) => {
    const schema = await pgSchemaOrSkip();
    if (schema === undefined) return t.skip('no PostgreSQL');
    try {
      await storeWritePath(await openPostgresDialect(PG_URL, STORE_MIGRATIONS, { schema, max: 4 }, STORE_VERSION_TABLE));
    } finally {
      await dropSchema(schema);
    }
  });
});
