/**
 * Time-stamp tokens per second over HTTP on 127.0.0.1 (src/time/), at 1, 16 and 64 concurrent clients
 * (keep-alive connections, one request in flight each), with the p50 and p99 latency of a request. The TSA
 * measured first is the identity server's (`evident server run --tsa-bind`, src/identity/server/tsa.ts): a
 * whole IdentityServer in its own process, so the clients here do not take its event loop; then, for
 * comparison, the standalone TSA as `evident tsa serve` runs it (worker threads, one per core; --threads=N,
 * --threads=0 for its main thread alone; --server-only skips it). The peer measured in the same run is what
 * a token cannot do without: raw ECDSA P-256 signatures in-process. Target on 2 cores: ≥ 1 000 tokens/s
 * and p99 ≤ 20 ms at 16 clients, the identity server's TSA. Flags: --seconds=N per level (default 5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AsnConvert, asn1, OctetString, X509Certificate } from '../src/crypto/x509/x509.js';
import { tsp } from '../src/time/asn1.js';
import { TIMESTAMP_QUERY, verifyTimestampToken } from '../src/time/index.js';
import { numberFlag } from './_flags.js';

const here = dirname(fileURLToPath(import.meta.url));

/** CPU seconds (user + system) a process has used, all its threads, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Requests made up front (each its own nonce), so the clients spend their CPU on HTTP, not on ASN.1. */
function requests(n: number): { der: Buffer; data: Buffer }[] {
  return Array.from({ length: n }, () => {
    const data = randomBytes(72);
    const nonce = randomBytes(8);
    nonce[0] = (nonce[0]! & 0x7f) | 1;
    const req = new tsp.TimeStampReq({
      messageImprint: new tsp.MessageImprint({
        hashAlgorithm: new asn1.AlgorithmIdentifier({ algorithm: '2.16.840.1.101.3.4.2.1' }),
        hashedMessage: new OctetString(createHash('sha256').update(data).digest()),
      }),
      nonce: new Uint8Array(nonce).buffer,
      certReq: true,
    });
    return { der: Buffer.from(AsnConvert.serialize(req)), data };
  });
}

function post(url: string, agent: Agent, body: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': TIMESTAMP_QUERY, 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A TSA under test: where it answers, the process that does the work, the roots its tokens chain to. */
interface Target {
  name: string;
  url: string;
  pid: number;
  roots: X509Certificate[];
  stop(): Promise<void>;
}

/** A child process started with tsx, and its first line of output (JSON). */
async function child(script: string, args: string[]): Promise<{ proc: ChildProcess; info: Record<string, unknown> }> {
  // EVIDENT_BENCH_SERVER_NODE_ARGS passes node flags to the server process (e.g. --cpu-prof)
  const nodeArgs = (process.env.EVIDENT_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(here, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  return { proc, info: JSON.parse(first) as Record<string, unknown> };
}

function stopper(proc: ChildProcess, after?: () => Promise<void>): () => Promise<void> {
  return async () => {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    await after?.();
  };
}

/** An identity server with `tsa_bind`, in its own process (bench/_identity-server-child.ts). */
async function identityServerTsa(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-bench-'));
  const { proc, info } = await child('_identity-server-child.ts', ['bench.example.org', dir, 'tsa']);
  return {
    name: "identity server's TSA",
    url: `http://${info.tsaAddress as string}/tsa`,
    pid: proc.pid!,
    roots: (info.roots as string[]).map((r) => new X509Certificate(Buffer.from(r, 'base64'))),
    stop: stopper(proc, () => rm(dir, { recursive: true, force: true })),
  };
}

/** The standalone TSA as `evident tsa serve` runs it (bench/_tsa-child.ts), on `threads` worker threads. */
async function standaloneTsa(threads: number): Promise<Target> {
  const { proc, info } = await child('_tsa-child.ts', [String(threads)]);
  return {
    name: `tsa serve, ${threads === 0 ? 'main thread' : `${threads} worker thread${threads === 1 ? '' : 's'}`}`,
    url: info.url as string,
    pid: proc.pid!,
    roots: [new X509Certificate(Buffer.from(info.root as string, 'base64'))],
    stop: stopper(proc),
  };
}

interface Level {
  clients: number;
  rate: number;
  p50: number;
  p99: number;
  failed: number;
  /** CPU milliseconds per token, of the TSA's process and of this one (the clients). */
  serverMs: number;
  clientMs: number;
}

async function level(target: Target, clients: number, seconds: number, pool: { der: Buffer }[]): Promise<Level> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  // warm up the connections and the server's code paths
  for (let i = 0; i < 3; i++)
    await Promise.all(Array.from({ length: clients }, (_, j) => post(target.url, agent, pool[j % pool.length]!.der)));
  const cpu0 = cpuSeconds(target.pid);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        const res = await post(target.url, agent, pool[next++ % pool.length]!.der);
        latencies.push(performance.now() - started);
        // a rejection is a few dozen bytes, a token with its certificate over a kilobyte
        if (res.status !== 200 || res.body.length < 500) failed++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const serverCpu = cpuSeconds(target.pid) - cpu0;
  const own = process.cpuUsage(own0);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  const n = latencies.length;
  return {
    clients,
    rate: n / wall,
    p50: at(0.5),
    p99: at(0.99),
    failed,
    serverMs: (serverCpu * 1000) / n,
    clientMs: (own.user + own.system) / 1000 / n,
  };
}

/** Raw ECDSA P-256 signatures (SHA-256 of 32 bytes) per second in this process. */
function ecdsaRate(seconds: number): number {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = randomBytes(32);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 100; i++) sign('sha256', data, privateKey);
    n += 100;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** The target's levels, printed as they finish; its first token checked in full first. */
async function measure(target: Target, seconds: number, pool: { der: Buffer; data: Buffer }[], peer: number): Promise<Level[]> {
  const sample = await post(target.url, new Agent(), pool[0]!.der);
  const token = Buffer.from(AsnConvert.serialize(AsnConvert.parse(sample.body, tsp.TimeStampResp).timeStampToken!));
  const check = verifyTimestampToken(token, pool[0]!.data, target.roots);
  if (!check.ok) throw new Error(`the ${target.name}'s token does not verify: ${check.message}`);
  const levels: Level[] = [];
  for (const clients of [1, 16, 64]) {
    const l = await level(target, clients, seconds, pool);
    levels.push(l);
    process.stdout.write(
      `${target.name}, ${String(clients).padStart(2)} clients: ${l.rate.toFixed(0)} tokens/s (${(l.rate / peer).toFixed(3)} of ECDSA), ` +
        `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms; CPU/token ${l.serverMs.toFixed(3)} ms TSA, ${l.clientMs.toFixed(3)} ms clients` +
        `${l.failed > 0 ? `; ${l.failed} FAILED` : ''}\n`,
    );
  }
  return levels;
}

export default async function tsaBench(flags: string[]): Promise<void> {
  const seconds = numberFlag(flags, '--seconds') ?? 5;
  // numberFlag takes positive numbers; 0 (the main thread alone) is spelled out
  const threads = flags.includes('--threads=0') ? 0 : (numberFlag(flags, '--threads', { whole: true }) ?? availableParallelism());
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const pool = requests(2000);
  const peer = ecdsaRate(Math.max(1, seconds / 2));
  out(`peer, raw ECDSA P-256 signing in-process: ${peer.toFixed(0)} signatures/s (load average ${loadavg()[0]!.toFixed(1)})`);
  const starts = [identityServerTsa, ...(flags.includes('--server-only') ? [] : [() => standaloneTsa(threads)])];
  let goal: Level | undefined;
  for (const start of starts) {
    const target = await start();
    try {
      const levels = await measure(target, seconds, pool, peer);
      goal ??= levels.find((l) => l.clients === 16);
    } finally {
      await target.stop();
    }
  }
  const met = goal !== undefined && goal.rate >= 1000 && goal.p99 <= 20 && goal.failed === 0;
  out(
    `target ≥ 1 000 tokens/s and p99 ≤ 20 ms at 16 clients (identity server's TSA): ${met ? 'met' : `NOT met on this run (load average ${loadavg()[0]!.toFixed(1)})`}`,
  );
}
