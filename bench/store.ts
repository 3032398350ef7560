/**
 * `npm run bench -- store`: the evidence store (src/store/), its two numbers beside the bare database's in
 * one run, every SQLite file in a temporary folder (removed after):
 *
 *   - ingest: distinct signed in-toto links (--uploads=N, default 20 000; ed25519, signed and serialized
 *     by evident's own code before the clock starts) POSTed to `/v1/evidence` over HTTP with a bearer
 *     token by 16 concurrent uploaders (keep-alive, one upload in flight each), to the real store
 *     (startEvidenceStore in its own process, bench/_store-child.ts) on an SQLite file (WAL,
 *     synchronous=FULL); links/s from the first upload to the last answer, every answer a 201;
 *   - its baseline, bare inserts: the same rows (the statements the store writes for each upload,
 *     evidence-db.ts `insertion`) written by better-sqlite3 itself into a fresh file of the same schema
 *     with the same durability per acknowledged upload (WAL, synchronous=FULL: an upload counts once the
 *     commit holding it has synced), and nothing else: no HTTP, no parsing, no hashing. With 16 uploaders
 *     each waiting for its answer, no commit can hold more than 16 uploads, so the best a bare writer can
 *     do at equal durability and concurrency is one transaction per 16 uploads: that is the baseline the
 *     ratio is taken against. A naive writer's one transaction (one sync) per upload is printed beside it;
 *   - digest query: `GET /v1/evidence?digest=sha256:…` p50/p99 (one client, sequential, keep-alive) with
 *     --stored=N attestations in the database (default 1 000 000: written straight into the store's
 *     schema with the same statements in large transactions, as uploading them over HTTP would take too
 *     long, and kept for the next run, see filled(); the store is then started on that file), beside its baseline: an indexed SELECT of the same
 *     rows (artifact index joined to evidence, newest first, one page) run by better-sqlite3 in-process.
 *     Each link names 2 source files out of a pool shared by ~8 links, 2 of its own and 2 products; the
 *     queries ask for those digests at random (so a query finds 1 to about 8 links).
 *
 * Goal on 2 cores: ingest ≥ 2 000 links/s and ≥ 0.5 × the bare-insert baseline; digest query p99 ≤ 5 ms.
 * Flags: --uploads=N, --stored=N, --queries=N (default 2 000), --clean (fill the stored attestations anew),
 * --min-ratio=X (fail the run when ingest is under X × the baseline).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { PrivateKey } from '../src/crypto/keys.js';
import { serializeMetablock, signMetablock } from '../src/intoto/models/metablock.js';
import type { Link } from '../src/intoto/models/types.js';
import type { Statement } from '../src/sql/dialect.js';
import { digestOf } from '../src/store/digest.js';
import { insertion, openEvidenceDb, STORE_SQLITE_PRAGMAS, type EvidenceRecord } from '../src/store/evidence-db.js';
import { parseEvidence } from '../src/store/evidence.js';
import { gitoidSha256 } from '../src/store/gitoid.js';
import { STORE_MIGRATIONS } from '../src/store/schema.js';
import { numberFlag } from './_flags.js';

const here = dirname(fileURLToPath(import.meta.url));
const UPLOADERS = 16;
const TOKEN = 'bench-store-token';
const STEPS = ['fetch', 'build', 'test', 'package', 'scan', 'sign'];

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const out = (s: string) => process.stdout.write(`${s}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The digests link `i` of a set names, `shared` the size of the set's pool of shared sources. */
function artifactsOf(set: string, i: number, shared: number) {
  // two sources from the pool (each used by ~8 links of the set), in a spread order
  const a = (i * 7919) % shared;
  const b = (i * 104729 + 17) % shared;
  return {
    materials: {
      [`src/common/util${a}.c`]: sha(`${set} shared source ${a}`),
      [`src/common/util${b}.h`]: sha(`${set} shared header ${b}`),
      [`pkg${i}/main.c`]: sha(`${set} source ${i}`),
      [`pkg${i}/Makefile`]: sha(`${set} makefile ${i}`),
    },
    products: { [`out/pkg${i}.o`]: sha(`${set} object ${i}`), [`out/pkg${i}`]: sha(`${set} binary ${i}`) },
  };
}

/** Link `i` of a set, as in-toto-run records a build step: what it read, what it wrote, what it printed. */
function linkOf(set: string, i: number, shared: number): Link {
  const { materials, products } = artifactsOf(set, i, shared);
  const dict = (a: Record<string, string>) => Object.fromEntries(Object.entries(a).map(([name, h]) => [name, { sha256: h }]));
  return {
    _type: 'link',
    name: STEPS[i % STEPS.length]!,
    command: ['make', '-C', `pkg${i}`, 'all'],
    materials: dict(materials),
    products: dict(products),
    byproducts: {
      'return-value': 0,
      stdout: `cc -O2 -Wall -c pkg${i}/main.c -o out/pkg${i}.o\ncc -o out/pkg${i} out/pkg${i}.o -lcommon\n`,
      stderr: '',
    },
    environment: {},
  };
}

/** A digest link `i` of a set names, for a query: a shared source, one of its own sources, or a product. */
function queryDigest(set: string, i: number, shared: number): string {
  const { materials, products } = artifactsOf(set, i, shared);
  const all = [...Object.values(materials), ...Object.values(products)];
  return `sha256:${all[(i >>> 3) % all.length]!}`;
}

/** What the store would make of these bytes, as an upload by the bench's token. */
function recordOf(body: Buffer, storedAt: number): EvidenceRecord {
  return { digest: digestOf(body), gitoid: gitoidSha256(body), body, facts: parseEvidence(body), uploader: 'token:bench', storedAt };
}

/** The statements the store writes for a new record (its evidence row answered as inserted, so the index rows follow). */
function statementsOf(r: EvidenceRecord): Statement[] {
  const gen = insertion(r);
  const statements: Statement[] = [];
  let step = gen.next();
  while (!step.done) {
    statements.push(step.value);
    step = gen.next(statements.length === 1 ? [{ digest: r.digest }] : []);
  }
  return statements;
}

/**
 * better-sqlite3 on a file, statements prepared once each: durable and set as the store is (WAL,
 * synchronous=FULL, the store's other settings), or, to set up a database quickly, not at all (journal in
 * memory, no syncs).
 */
function bareDb(file: string, durable: boolean) {
  const db = new Database(file);
  db.pragma(`journal_mode = ${durable ? 'WAL' : 'MEMORY'}`);
  db.pragma(`synchronous = ${durable ? 'FULL' : 'OFF'}`);
  if (durable) for (const pragma of STORE_SQLITE_PRAGMAS) db.pragma(pragma);
  const prepared = new Map<string, Database.Statement>();
  const run = (s: Statement) => {
    let st = prepared.get(s.sql);
    if (st === undefined) prepared.set(s.sql, (st = db.prepare(s.sql)));
    if (st.reader) st.get(...s.args);
    else st.run(...s.args);
  };
  const write = db.transaction((uploads: readonly Statement[][]) => {
    for (const statements of uploads) for (const s of statements) run(s);
  });
  return { db, write: (uploads: readonly Statement[][]) => write.immediate(uploads) };
}

/** A fresh file with the store's schema, as the store migrates it. */
async function freshStoreFile(file: string): Promise<void> {
  await (await openEvidenceDb(`sqlite:${file}`, undefined)).close();
}

/** Uploads per second writing `uploads` into a fresh file, `perTransaction` per transaction, synchronous=FULL. */
async function bareInsertRate(file: string, uploads: readonly Statement[][], perTransaction: number): Promise<number> {
  await freshStoreFile(file);
  const { db, write } = bareDb(file, true);
  const t0 = performance.now();
  for (let i = 0; i < uploads.length; i += perTransaction) write(uploads.slice(i, i + perTransaction));
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return uploads.length / seconds;
}

/** The store in its own process over `datastore`; its URL, pid and how to stop it. */
async function startStore(datastore: string, tokenFile: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  // EVIDENT_BENCH_SERVER_NODE_ARGS passes node flags to the server process (e.g. --cpu-prof)
  const nodeArgs = (process.env.EVIDENT_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', join(here, '_store-child.ts'), datastore, tokenFile],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`the store exited (${code})`)));
  });
  return {
    url: (JSON.parse(first) as { url: string }).url,
    pid: proc.pid!,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

function send(url: string, agent: Agent, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers =
      body === undefined ? {} : { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${TOKEN}` };
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function percentiles(ms: number[]): { p50: number; p99: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

interface Ingest {
  rate: number;
  p50: number;
  p99: number;
  /** CPU milliseconds of the store's process per upload. */
  serverMs: number;
}

/** The uploads POSTed by UPLOADERS clients at once, after a warm-up of `warmup` others. */
async function ingest(url: string, pid: number, warmup: readonly Buffer[], uploads: readonly Buffer[]): Promise<Ingest> {
  const agent = new Agent({ keepAlive: true, maxSockets: UPLOADERS });
  const target = `${url}/v1/evidence`;
  const refused: string[] = [];
  const run = async (bodies: readonly Buffer[], latencies: number[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: UPLOADERS }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const started = performance.now();
          const res = await send(target, agent, body);
          latencies.push(performance.now() - started);
          if (res.status !== 201) refused.push(`${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
        }
      }),
    );
  };
  await run(warmup, []);
  const latencies: number[] = [];
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await run(uploads, latencies);
  const seconds = (performance.now() - t0) / 1000;
  const serverCpu = cpuSeconds(pid) - cpu0;
  agent.destroy();
  if (refused.length > 0) throw new Error(`${refused.length} uploads were not stored (201): ${refused[0]}`);
  return { rate: uploads.length / seconds, ...percentiles(latencies), serverMs: (serverCpu * 1000) / uploads.length };
}

/** How many evidence rows and artifact rows a store file holds. */
function countRows(file: string): { evidence: number; artifacts: number } {
  const db = new Database(file, { readonly: true });
  const n = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const counts = { evidence: n('evidence'), artifacts: n('evidence_artifacts') };
  db.close();
  return counts;
}

/** Bumped when what fill() writes changes, so that a cached database is made anew. */
const FILL_VERSION = 1;

/**
 * A store file holding `stored` signed links of set `q`, written with the store's statements 5 000 uploads
 * a transaction, without syncs (setting up, not measured), stored_at spread over 30 days. Kept under
 * os.tmpdir()/evident-bench-store for the next run (10^6 take minutes to sign and index), named by the
 * store's schema so that a migration makes it anew; --clean removes it first.
 */
async function filled(stored: number, key: PrivateKey, clean: boolean): Promise<string> {
  const cache = join(tmpdir(), 'evident-bench-store');
  if (clean) await rm(cache, { recursive: true, force: true });
  await mkdir(cache, { recursive: true });
  const id = sha(JSON.stringify({ FILL_VERSION, stored, STORE_MIGRATIONS })).slice(0, 12);
  const file = join(cache, `attestations-${stored}-${id}.sqlite3`);
  if (existsSync(file)) {
    out(`  ${fmt(stored)} attestations from an earlier run: ${file}`);
    return file;
  }
  // one cached database at a time: they are large
  for (const old of await readdir(cache)) await rm(join(cache, old), { force: true });
  const partial = `${file}.partial`;
  await freshStoreFile(partial);
  const { db, write } = bareDb(partial, false);
  db.pragma('cache_size = -262144'); // 256 MiB while filling; the store opens the file with its own defaults
  const shared = Math.max(1, Math.floor(stored / 8));
  const now = Date.now();
  const t0 = performance.now();
  const chunk = 5000;
  for (let start = 0; start < stored; start += chunk) {
    const batch: Statement[][] = [];
    for (let i = start; i < Math.min(stored, start + chunk); i++) {
      const body = Buffer.from(serializeMetablock(signMetablock(linkOf('q', i, shared), [key])));
      batch.push(statementsOf(recordOf(body, now - 30 * 86400_000 + Math.floor((i / stored) * 30 * 86400_000))));
    }
    write(batch);
    if ((start / chunk) % 40 === 39)
      out(`  filled ${fmt(start + chunk)} of ${fmt(stored)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  db.pragma('journal_mode = WAL');
  db.close();
  await rename(partial, file);
  out(`  filled ${fmt(stored)} attestations in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${file}`);
  return file;
}

/** The bare query: the rows naming an artifact, newest first, one page of the store's default size (100, and one more). */
const BARE_QUERY = `SELECT e.digest, e.kind, e.step, e.predicate_type, e.signers, e.timestamps, e.stored_at
  FROM evidence_artifacts a JOIN evidence e ON e.digest = a.evidence
  WHERE a.artifact = ? ORDER BY e.stored_at DESC, e.digest DESC LIMIT 101`;

export default async function storeBench(flags: string[]): Promise<void> {
  const uploadCount = numberFlag(flags, '--uploads', { whole: true }) ?? 20_000;
  const stored = numberFlag(flags, '--stored', { whole: true }) ?? 1_000_000;
  const queryCount = numberFlag(flags, '--queries', { whole: true }) ?? 2_000;
  const minRatio = numberFlag(flags, '--min-ratio');
  const dir = await mkdtemp(join(tmpdir(), 'evident-bench-store-'));
  try {
    const tokenFile = join(dir, 'tokens');
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const key = new PrivateKey(generateKeyPairSync('ed25519').privateKey);
    out(
      `${fmt(uploadCount)} uploads by ${UPLOADERS} uploaders; ${fmt(stored)} stored attestations, ${fmt(queryCount)} queries (load average ${loadavg()[0]!.toFixed(1)})`,
    );

    // -- ingest, then the same rows bare
    const sign = (set: string, n: number) => {
      const shared = Math.max(1, Math.floor(n / 8));
      return Array.from({ length: n }, (_, i) => Buffer.from(serializeMetablock(signMetablock(linkOf(set, i, shared), [key]))));
    };
    const warmup = sign('w', UPLOADERS * 20);
    const uploads = sign('u', uploadCount);
    out(`  a link is ${fmt(uploads.reduce((n, b) => n + b.length, 0) / uploads.length)} bytes on average`);
    const ingestFile = join(dir, 'ingest.sqlite3');
    await freshStoreFile(ingestFile);
    const store = await startStore(`sqlite:${ingestFile}`, tokenFile);
    let measured: Ingest;
    try {
      measured = await ingest(store.url, store.pid, warmup, uploads);
    } finally {
      await store.stop();
    }
    const rows = countRows(ingestFile);
    if (rows.evidence !== warmup.length + uploads.length)
      throw new Error(`the store holds ${rows.evidence} links after ${warmup.length + uploads.length} uploads`);
    const statements = uploads.map((b) => statementsOf(recordOf(b, Date.now())));
    const bare16 = await bareInsertRate(join(dir, 'bare16.sqlite3'), statements, UPLOADERS);
    const bare1 = await bareInsertRate(join(dir, 'bare1.sqlite3'), statements, 1);
    await rm(join(dir, 'bare16.sqlite3'), { force: true });
    await rm(join(dir, 'bare1.sqlite3'), { force: true });

    // -- digest query with `stored` attestations
    const queryFile = await filled(stored, key, flags.includes('--clean'));
    const shared = Math.max(1, Math.floor(stored / 8));
    const pick = (n: number, seed: number) =>
      Array.from({ length: n }, (_, j) => queryDigest('q', (j * 2654435761 + seed) % stored, shared));
    const warmQueries = pick(200, 7);
    const queries = pick(queryCount, 1);
    const server = await startStore(`sqlite:${queryFile}`, tokenFile);
    const httpMs: number[] = [];
    const httpFound = new Map<string, string[]>();
    let found = 0;
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const ask = async (digest: string) => {
        const started = performance.now();
        const res = await send(`${server.url}/v1/evidence?digest=${digest}`, agent);
        const ms = performance.now() - started;
        const items = res.status === 200 ? (JSON.parse(res.body.toString('utf8')) as { items: { digest: string }[] }).items : [];
        if (items.length === 0) throw new Error(`GET /v1/evidence?digest=${digest}: ${res.status}, no evidence found`);
        return { ms, items };
      };
      for (const d of warmQueries) await ask(d);
      for (const d of queries) {
        const { ms, items } = await ask(d);
        httpMs.push(ms);
        found += items.length;
        if (httpFound.size < 50)
          httpFound.set(
            d,
            items.map((i) => i.digest),
          );
      }
      agent.destroy();
    } finally {
      await server.stop();
    }
    const db = new Database(queryFile, { readonly: true });
    const select = db.prepare(BARE_QUERY);
    for (const d of warmQueries) select.all(d);
    const bareMs: number[] = [];
    for (const d of queries) {
      const started = performance.now();
      select.all(d);
      bareMs.push(performance.now() - started);
    }
    for (const [d, digests] of httpFound) {
      const bare = (select.all(d) as { digest: string }[]).map((r) => r.digest);
      if (bare.join() !== digests.join()) throw new Error(`the bare SELECT and the store disagree on ${d}`);
    }
    db.close();
    const http = percentiles(httpMs);
    const bare = percentiles(bareMs);

    // -- the table
    const ratio = measured.rate / bare16;
    const table: [string, string, string][] = [
      ['', 'measured', 'vs the baseline'],
      [
        `ingest: store over HTTP, ${UPLOADERS} uploaders`,
        `${fmt(measured.rate)} links/s`,
        `${ratio.toFixed(2)} × bare ${UPLOADERS}/transaction, ${(measured.rate / bare1).toFixed(2)} × bare 1/transaction`,
      ],
      [
        '  its uploads',
        `p50 ${measured.p50.toFixed(2)} ms, p99 ${measured.p99.toFixed(2)} ms`,
        `store CPU ${measured.serverMs.toFixed(3)} ms/upload`,
      ],
      [`baseline: bare SQLite, ${UPLOADERS} uploads/transaction`, `${fmt(bare16)} links/s`, 'WAL, synchronous=FULL, same rows'],
      ['  bare SQLite, 1 upload/transaction', `${fmt(bare1)} links/s`, 'the naive writer, same durability'],
      [
        `digest query: store over HTTP, ${fmt(stored)} stored`,
        `p50 ${http.p50.toFixed(2)} ms, p99 ${http.p99.toFixed(2)} ms`,
        `${(http.p50 / bare.p50).toFixed(1)} × bare p50, ${(http.p99 / bare.p99).toFixed(1)} × bare p99; ${(found / queries.length).toFixed(1)} links/query`,
      ],
      [
        'baseline: bare indexed SELECT, same rows',
        `p50 ${bare.p50.toFixed(3)} ms, p99 ${bare.p99.toFixed(3)} ms`,
        'better-sqlite3 in-process',
      ],
    ];
    const w0 = Math.max(...table.map((r) => r[0].length));
    const w1 = Math.max(...table.map((r) => r[1].length));
    for (const [a, b, c] of table) out(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    out(
      `goal (2 cores): ingest ≥ 2 000 links/s ${verdict(measured.rate >= 2000)}; ≥ 0.5 × bare ${verdict(ratio >= 0.5)}; ` +
        `digest query p99 ≤ 5 ms ${verdict(http.p99 <= 5)} (load average ${loadavg()[0]!.toFixed(1)})`,
    );
    if (minRatio !== undefined && ratio < minRatio)
      throw new Error(`ingest is ${ratio.toFixed(2)} × the bare-insert baseline, under --min-ratio=${minRatio}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
