/**
 * `npm run bench -- gate`: the deployment gate (src/gate/) answering `POST /v1/admit` over HTTP, in this
 * process, with the evidence store in its own (bench/_store-child.ts, SQLite in a temporary folder):
 *
 *   - warm: the same digest again and again, its verdict in the cache (nothing asked of the store);
 *   - cold: a gate whose cache keeps nothing (--cache-ttl 0): every admission walks the chain in the store
 *     (the searches and downloads of a 4-step chain like the demo's: code → build → test → package, the
 *     test step found forwards) and verifies its signatures and rules;
 *   - peer, in the same run: one bare search of the store for the product's digest (`GET /v1/evidence?
 *     digest=…`), the least a cold admission must ask the store, over the same kind of keep-alive connection.
 *
 * Latencies: one client, sequential (p50/p99); throughput: --clients=N concurrent (default 16) for warm,
 * sequential for cold (concurrent identical cold requests would share one verification). Goal on 2 cores:
 * warm p99 ≤ 5 ms, cold p99 ≤ 100 ms. Flags: --warm=N (default 3000), --cold=N (default 300), --clients=N.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PrivateKey } from '../src/crypto/keys.js';
import { Gate } from '../src/gate/gate.js';
import { GateMetrics } from '../src/gate/metrics.js';
import { startGateServer } from '../src/gate/server.js';
import { serializeMetablock, signMetablock } from '../src/intoto/models/metablock.js';
import type { Layout, Link, Step } from '../src/intoto/models/types.js';
import { StoreClient } from '../src/store/client.js';
import { numberFlag } from './_flags.js';

const here = dirname(fileURLToPath(import.meta.url));
const TOKEN = 'bench-gate-token';
const out = (s: string) => process.stdout.write(`${s}\n`);
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const key = () => new PrivateKey(generateKeyPairSync('ed25519').privateKey);

function step(name: string, materials: string[][], products: string[][], keyid: string): Step {
  return {
    _type: 'step',
    name,
    threshold: 1,
    expected_materials: materials,
    expected_products: products,
    pubkeys: [keyid],
    expected_command: [],
  };
}

function link(name: string, materials: Record<string, string>, products: Record<string, string>): Link {
  const dict = (a: Record<string, string>) => Object.fromEntries(Object.entries(a).map(([n, h]) => [n, { sha256: h }]));
  return {
    _type: 'link',
    name,
    command: ['make', name],
    materials: dict(materials),
    products: dict(products),
    byproducts: {},
    environment: {},
  };
}

/** The 4-step chain: the signed layout, its owner, the links and the product's digest. */
function chain() {
  const owner = key();
  const developer = key();
  const builder = key();
  const layout: Layout = {
    _type: 'layout',
    expires: '2100-01-01T00:00:00Z',
    readme: 'bench gate',
    keys: { [developer.keyid]: developer.publicKey.toDict(), [builder.keyid]: builder.publicKey.toDict() },
    steps: [
      step(
        'code',
        [],
        [
          ['CREATE', 'src/main.c'],
          ['DISALLOW', '*'],
        ],
        developer.keyid,
      ),
      step(
        'build',
        [
          ['MATCH', 'src/main.c', 'WITH', 'PRODUCTS', 'FROM', 'code'],
          ['DISALLOW', '*'],
        ],
        [
          ['CREATE', 'app'],
          ['DISALLOW', '*'],
        ],
        builder.keyid,
      ),
      step(
        'test',
        [
          ['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'],
          ['DISALLOW', '*'],
        ],
        [
          ['CREATE', 'report.txt'],
          ['DISALLOW', '*'],
        ],
        builder.keyid,
      ),
      step(
        'package',
        [
          ['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'],
          ['DISALLOW', '*'],
        ],
        [
          ['CREATE', 'app.tar.gz'],
          ['DISALLOW', '*'],
        ],
        builder.keyid,
      ),
    ],
    inspect: [],
  };
  const source = sha('int main() { return 0; }');
  const app = sha('app binary');
  const product = sha('app.tar.gz');
  const signed = (l: Link, k: PrivateKey) => Buffer.from(serializeMetablock(signMetablock(l, [k])));
  return {
    layout: signMetablock(layout, [owner]),
    owner,
    product: `sha256:${product}` as const,
    links: [
      signed(link('code', {}, { 'src/main.c': source }), developer),
      signed(link('build', { 'src/main.c': source }, { app }), builder),
      signed(link('test', { app }, { 'report.txt': sha('all passed') }), builder),
      signed(link('package', { app }, { 'app.tar.gz': product }), builder),
    ],
  };
}

async function startStore(datastore: string, tokenFile: string): Promise<{ url: string; stop(): Promise<void> }> {
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(here, '_store-child.ts'), datastore, tokenFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`the store exited (${code})`)));
  });
  return {
    url: (JSON.parse(first) as { url: string }).url,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

function send(url: string, agent: Agent, body?: string | Buffer, token?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
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

/** `n` sequential requests after a few unmeasured ones; each answer checked. */
async function sequential(n: number, call: () => Promise<void>): Promise<{ rate: number; p50: number; p99: number }> {
  for (let i = 0; i < Math.min(20, n); i++) await call();
  const ms: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    ms.push(performance.now() - t);
  }
  return { rate: n / ((performance.now() - t0) / 1000), ...percentiles(ms) };
}

async function concurrent(n: number, clients: number, call: () => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next++ < n) await call();
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

export default async function bench(flags: string[]): Promise<void> {
  const warmN = numberFlag(flags, '--warm', { whole: true }) ?? 3000;
  const coldN = numberFlag(flags, '--cold', { whole: true }) ?? 300;
  const clients = numberFlag(flags, '--clients', { whole: true }) ?? 16;
  const dir = await mkdtemp(join(tmpdir(), 'evident-bench-gate-'));
  const tokenFile = join(dir, 'tokens');
  await writeFile(tokenFile, `${TOKEN}\n`);
  const store = await startStore(`sqlite:${join(dir, 'evidence.sqlite3')}`, tokenFile);
  const servers: { close(): Promise<void> }[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  try {
    const c = chain();
    for (const body of c.links) {
      const r = await send(`${store.url}/v1/evidence`, agent, body, TOKEN);
      if (r.status !== 201) throw new Error(`upload: HTTP ${r.status} ${r.body.toString()}`);
    }
    const policy = {
      name: 'root.layout',
      layout: c.layout.signed,
      document: c.layout,
      keys: [c.owner.publicKey],
      namespaces: [],
      images: [],
      skipInspections: false,
    };
    const gateServer = async (cacheTtlMs: number) => {
      const metrics = new GateMetrics();
      const gate = new Gate({
        policies: [policy],
        store: new StoreClient({ url: store.url }),
        cacheTtlMs,
        refusedTtlMs: cacheTtlMs,
        observer: metrics,
      });
      const server = await startGateServer({ gate, metrics });
      servers.push(server);
      return server.url;
    };
    const warmUrl = await gateServer(5 * 60_000);
    const coldUrl = await gateServer(0);
    const body = JSON.stringify({ artifact: `registry.example/hello@${c.product}`, context: { namespace: 'default' } });
    const admit = (url: string) => async () => {
      const r = await send(`${url}/v1/admit`, agent, body);
      if (r.status !== 200 || (JSON.parse(r.body.toString()) as { allowed: boolean }).allowed !== true) {
        throw new Error(`admit: HTTP ${r.status} ${r.body.toString()}`);
      }
    };
    const search = async () => {
      const r = await send(`${store.url}/v1/evidence?digest=${c.product}&role=product`, agent);
      if (r.status !== 200) throw new Error(`search: HTTP ${r.status}`);
    };

    const warm = await sequential(warmN, admit(warmUrl));
    const warmRate = await concurrent(warmN, clients, admit(warmUrl));
    const cold = await sequential(coldN, admit(coldUrl));
    const peer = await sequential(coldN, search);

    const ms = (n: number) => `${n.toFixed(2)} ms`;
    out(
      `store: ${store.url} (own process), a 4-step chain (code, build, test, package); gate in this process; load ${loadavg()[0]!.toFixed(2)}`,
    );
    out(
      `warm admission (cached verdict): p50 ${ms(warm.p50)}  p99 ${ms(warm.p99)}  ${Math.round(warm.rate)}/s sequential, ${Math.round(warmRate)}/s with ${clients} clients   goal p99 ≤ 5 ms: ${warm.p99 <= 5 ? 'met' : 'MISSED'}`,
    );
    out(
      `cold admission (walk + verify): p50 ${ms(cold.p50)}  p99 ${ms(cold.p99)}  ${Math.round(cold.rate)}/s sequential   goal p99 ≤ 100 ms: ${cold.p99 <= 100 ? 'met' : 'MISSED'}`,
    );
    out(`peer, one bare store search:     p50 ${ms(peer.p50)}  p99 ${ms(peer.p99)}  ${Math.round(peer.rate)}/s sequential`);
    out(`ratios: cold p50 = ${(cold.p50 / peer.p50).toFixed(1)} × one search; warm p50 = ${(warm.p50 / peer.p50).toFixed(2)} × one search`);
  } finally {
    agent.destroy();
    for (const s of servers) await s.close();
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
