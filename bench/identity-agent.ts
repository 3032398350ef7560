/**
 * `npm run bench -- identity-agent [--seconds=N] [--workloads=N] [--rate=N]`: the agent's Workload API
 * under load. 100 workloads (each its own connection, spread over 2 worker processes) call FetchX509SVID,
 * first paced (each `rate` calls/s, default 2, out of phase), then in a closed loop (saturation), against
 * one WorkloadApiServer (kernel credentials, unix attestation of every call, the
 * response built from a static in-memory identity source signed by a local test CA). Peer measured in
 * the same run: a bare grpc-js server on a Unix socket that answers the same bytes with no header check
 * and no attestation, i.e. the floor set by gRPC itself. Target: p99 ≤ 20 ms on 2 cores.
 *
 * With EVIDENT_BENCH_AGENT_WORKER=1 this file is a worker: it opens its clients and reports latencies.
 */
import { fork } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type Client,
  type ClientReadableStream,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { SvidCache } from '../src/identity/agent/cache.js';
import { WorkloadApiServer, type ServedEntry, type X509Identity } from '../src/identity/agent/workloadapi/index.js';
import { x509SvidResponse } from '../src/identity/agent/workloadapi/responses.js';
import { SpiffeId, TrustDomain } from '../src/spiffe/spiffeid/index.js';
import {
  workloadApiClientConstructor,
  workloadApiServiceDefinition,
  type X509SVIDResponseMessage,
} from '../src/spiffe/workloadapi/index.js';
import { createCaCertificate, createX509Svid } from '../src/spiffe/x509svid/index.js';
import { numberFlag } from './_flags.js';

const WORKER_ENV = 'EVIDENT_BENCH_AGENT_WORKER';

interface Target {
  name: string;
  target: string;
  header: boolean;
}

/** Messages to a worker: set up its clients once, then run rounds against one target at a time. */
type ToWorker = { setup: { targets: Target[]; clients: number } } | { run: { name: string; ms: number; rate: number } } | { exit: true };

type Raw = Client & { FetchX509SVID(req: object, md: Metadata): ClientReadableStream<unknown> };

function fetchOnce(c: Raw, header: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const md = new Metadata();
    if (header) md.set('workload.spiffe.io', 'true');
    const s = c.FetchX509SVID({}, md);
    let done = false;
    s.on('data', () => {
      done = true;
      s.cancel();
      resolve();
    });
    s.on('error', (e: { code?: number }) => {
      if (!done && e.code !== 1) reject(e as Error);
    });
  });
}

/**
 * One workload's calls for `ms`: paced at `rate` calls/s (out of phase with the others), or, with rate
 * 0, a closed loop. Returns each call's latency in ms.
 */
async function drive(c: Raw, header: boolean, ms: number, rate: number): Promise<number[]> {
  const lat: number[] = [];
  const end = Date.now() + ms;
  const interval = rate > 0 ? 1000 / rate : 0;
  let due = Date.now() + Math.random() * interval;
  while (Date.now() < end) {
    if (interval > 0) {
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      due += interval;
    }
    const t = process.hrtime.bigint();
    await fetchOnce(c, header);
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return lat;
}

/** Worker: `clients` connections per target (a local subchannel pool each, so they do not share one). */
async function worker(): Promise<void> {
  const Ctor = workloadApiClientConstructor();
  const byName = new Map<string, { t: Target; clients: Raw[] }>();
  for (;;) {
    const msg = await new Promise<ToWorker>((resolve) => process.once('message', (m) => resolve(m as ToWorker)));
    if ('exit' in msg) break;
    if ('setup' in msg) {
      for (const t of msg.setup.targets) {
        const clients = Array.from(
          { length: msg.setup.clients },
          () => new Ctor(t.target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as Raw,
        );
        await Promise.all(clients.map((c) => fetchOnce(c, t.header).then(() => fetchOnce(c, t.header)))); // connect + warm up
        byName.set(t.name, { t, clients });
      }
      process.send?.({ ready: true });
    } else {
      const { t, clients } = byName.get(msg.run.name) as { t: Target; clients: Raw[] };
      const lat = (await Promise.all(clients.map((c) => drive(c, t.header, msg.run.ms, msg.run.rate)))).flat();
      process.send?.({ lat });
    }
  }
  for (const { clients } of byName.values()) for (const c of clients) c.close();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Result {
  calls: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

function summarize(lat: number[], seconds: number): Result {
  const sorted = [...lat].sort((a, b) => a - b);
  return {
    calls: sorted.length,
    perSecond: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/**
 * The load generators: 2 worker processes sharing `workloads` between them, connected to every target.
 * Targets are measured in alternating short rounds, so load from elsewhere on the machine falls on
 * both alike.
 */
async function startWorkers(targets: Target[], workloads: number) {
  const self = fileURLToPath(import.meta.url);
  const procs = 2;
  const kids = Array.from({ length: procs }, () =>
    fork(self, [], {
      env: { ...process.env, [WORKER_ENV]: '1' },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const next = (k: (typeof kids)[number]): Promise<Record<string, unknown>> =>
    new Promise((resolve) => k.once('message', (m) => resolve(m as Record<string, unknown>)));
  const send = (k: (typeof kids)[number], m: ToWorker): void => void k.send(m);
  kids.forEach((k, i) => send(k, { setup: { targets, clients: Math.floor(workloads / procs) + (i < workloads % procs ? 1 : 0) } }));
  await Promise.all(kids.map(next));
  return {
    async run(name: string, ms: number, rate: number): Promise<number[]> {
      const results = kids.map(next);
      for (const k of kids) send(k, { run: { name, ms, rate } });
      return (await Promise.all(results)).flatMap((m) => m.lat as number[]);
    },
    stop(): void {
      for (const k of kids) send(k, { exit: true });
    },
  };
}

async function staticSource(uid: number): Promise<{ cache: SvidCache; response: X509SVIDResponseMessage }> {
  const td = TrustDomain.parse('bench.example');
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caCert = await createCaCertificate({ trustDomain: td, publicKey: ca.publicKey, privateKey: ca.privateKey });
  const entry: ServedEntry = {
    id: 'e1',
    spiffeId: 'spiffe://bench.example/workload',
    selectors: [{ type: 'unix', value: `uid:${uid}` }],
    hint: '',
  };
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = await createX509Svid({
    id: SpiffeId.parse(entry.spiffeId),
    publicKey: key.publicKey,
    issuer: { certificate: caCert, privateKey: ca.privateKey },
  });
  const svid: X509Identity = {
    entryId: 'e1',
    spiffeId: entry.spiffeId,
    hint: '',
    certChain: Buffer.from(leaf.rawData),
    privateKey: key.privateKey.export({ type: 'pkcs8', format: 'der' }),
    notBefore: leaf.notBefore,
    expiresAt: leaf.notAfter,
  };
  const cache = new SvidCache();
  cache.update(() => {
    cache.setEntries([entry]);
    cache.setX509Svid(svid);
    cache.setBundles({
      trustDomainId: td.idString(),
      x509: new Map([[td.idString(), Buffer.from(caCert.rawData)]]),
      jwt: new Map([[td.idString(), '{"keys":[]}']]),
    });
  });
  return { cache, response: x509SvidResponse(cache, [entry]) as X509SVIDResponseMessage };
}

/** The peer: grpc-js alone on a Unix socket, the same response bytes, nothing else. */
async function bareServer(socket: string, response: X509SVIDResponseMessage): Promise<Server> {
  const server = new Server();
  server.addService(workloadApiServiceDefinition(), {
    FetchX509SVID: (call: ServerWritableStream<unknown, X509SVIDResponseMessage>) => {
      call.write(response);
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
  );
  return server;
}

export default async function bench(flags: string[]): Promise<void> {
  const seconds = numberFlag(flags, '--seconds') ?? 10;
  const workloads = numberFlag(flags, '--workloads') ?? 100;
  const dir = await mkdtemp(join(tmpdir(), 'evident-bench-agent-'));
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  const rate = numberFlag(flags, '--rate') ?? 2;
  const rounds = 4;
  try {
    const { cache, response } = await staticSource(process.getuid?.() ?? 0);
    const agentSocket = join(dir, 'agent.sock');
    const bareSocket = join(dir, 'bare.sock');
    const api = await WorkloadApiServer.start({ socketPath: agentSocket, source: cache });
    const bare = await bareServer(bareSocket, response);
    const row = (name: string, r: Result): string =>
      `  ${name.padEnd(34)} ${String(r.calls).padStart(7)} calls  ${r.perSecond.toFixed(0).padStart(6)}/s  p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  max ${r.max.toFixed(1)} ms`;
    const verdicts: string[] = [];
    const targets: Target[] = [
      { name: 'agent', target: `unix://${agentSocket}`, header: true },
      { name: 'peer', target: `unix://${bareSocket}`, header: false },
    ];
    const workers = await startWorkers(targets, workloads);
    try {
      // a discarded round each, so neither side is measured while the JIT is still warming up
      for (const t of targets) await workers.run(t.name, 1000, 0);
      for (const [mode, r] of [
        [`paced: each workload ${rate} calls/s, out of phase`, rate],
        ['closed loop: next call as soon as answered (saturation)', 0],
      ] as const) {
        const lat: Record<string, number[]> = { agent: [], peer: [] };
        for (let i = 0; i < rounds; i++) {
          const order = i % 2 === 0 ? ['agent', 'peer'] : ['peer', 'agent'];
          for (const name of order) lat[name]!.push(...(await workers.run(name, (seconds * 1000) / rounds, r)));
        }
        const agent = summarize(lat['agent']!, seconds);
        const peer = summarize(lat['peer']!, seconds);
        log(
          `FetchX509SVID, ${workloads} concurrent workloads (own connection each, 2 worker processes), ${seconds} s each in ${rounds} alternating rounds, ${mode}:`,
        );
        log(row('evident agent (attest every call)', agent));
        log(row('peer: bare grpc-js, same bytes', peer));
        log(
          `  ratio agent/peer: p50 ${(agent.p50 / peer.p50).toFixed(2)}, p99 ${(agent.p99 / peer.p99).toFixed(2)}, throughput ${(agent.perSecond / peer.perSecond).toFixed(2)}`,
        );
        verdicts.push(`${r > 0 ? 'paced' : 'closed loop'} p99 ${agent.p99.toFixed(2)} ms`);
      }
    } finally {
      workers.stop();
      await api.close(200);
      bare.forceShutdown();
    }
    log(`target p99 ≤ 20 ms (2 cores): ${verdicts.join('; ')}`);
    log(
      `machine: ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (other work on the machine inflates every number above)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.env[WORKER_ENV] === '1') {
  await worker();
}
