/**
 * Time-stamp tokens per second from one TSA over HTTP on 127.0.0.1 (src/time/), the TSA in its own
 * process and this one acting as 1, 16 and 64 concurrent clients (keep-alive connections, one request in
 * flight each), with the p50 and p99 latency of a request. The peer measured in the same run is what a
 * token cannot do without: raw ECDSA P-256 signatures in-process. Target on 2 cores: ≥ 1 000 tokens/s
 * and p99 ≤ 20 ms at 16 clients. The TSA runs as `evident tsa serve` does, on one worker thread per core
 * (--threads=0 measures it on its main thread alone). Flags: --seconds=N per level (default 5), --threads=N.
 */
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AsnConvert, asn1, OctetString, X509Certificate } from '../src/crypto/x509/x509.js';
import { tsp } from '../src/time/asn1.js';
import { TIMESTAMP_QUERY, verifyTimestampToken } from '../src/time/index.js';
import { numberFlag } from './_flags.js';

/** CPU seconds (user + system) a process has used, from /proc. */
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

interface Level {
  clients: number;
  rate: number;
  p50: number;
  p99: number;
  failed: number;
  perServerCpu: number;
}

async function level(url: string, pid: number, clients: number, seconds: number, pool: { der: Buffer }[]): Promise<Level> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  // warm up the connections and the server's code paths
  await Promise.all(Array.from({ length: clients }, (_, i) => post(url, agent, pool[i % pool.length]!.der)));
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        const res = await post(url, agent, pool[next++ % pool.length]!.der);
        latencies.push(performance.now() - started);
        // a rejection is a few dozen bytes, a token with its certificate over a kilobyte
        if (res.status !== 200 || res.body.length < 500) failed++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const serverCpu = cpuSeconds(pid) - cpu0;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { clients, rate: latencies.length / wall, p50: at(0.5), p99: at(0.99), failed, perServerCpu: latencies.length / serverCpu };
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

export default async function tsaBench(flags: string[]): Promise<void> {
  const seconds = numberFlag(flags, '--seconds') ?? 5;
  // numberFlag takes positive numbers; 0 (the main thread alone) is spelled out
  const threads = flags.includes('--threads=0') ? 0 : (numberFlag(flags, '--threads', { whole: true }) ?? availableParallelism());
  const here = dirname(fileURLToPath(import.meta.url));
  const nodeArgs = (process.env.EVIDENT_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(here, '_tsa-child.ts'), String(threads)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`bench TSA exited (${code})`)));
    });
    const info = JSON.parse(first) as { url: string; root: string };
    const root = new X509Certificate(Buffer.from(info.root, 'base64'));
    const pool = requests(2000);
    // the tokens are real: one of them checked in full
    const sample = await post(info.url, new Agent(), pool[0]!.der);
    const token = Buffer.from(AsnConvert.serialize(AsnConvert.parse(sample.body, tsp.TimeStampResp).timeStampToken!));
    const check = verifyTimestampToken(token, pool[0]!.data, [root]);
    if (!check.ok) throw new Error(`the bench TSA's token does not verify: ${check.message}`);

    const out = (s: string) => process.stdout.write(`${s}\n`);
    out(`TSA on ${threads === 0 ? 'its main thread' : `${threads} worker thread${threads === 1 ? '' : 's'}`}`);
    const levels: Level[] = [];
    for (const clients of [1, 16, 64]) {
      const l = await level(info.url, child.pid!, clients, seconds, pool);
      levels.push(l);
      out(
        `TSA over HTTP, ${String(clients).padStart(2)} clients: ${l.rate.toFixed(0)} tokens/s, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms (${l.perServerCpu.toFixed(0)} per TSA CPU-second, ${l.failed} failed)`,
      );
    }
    const peer = ecdsaRate(Math.max(1, seconds / 2));
    out(`peer, raw ECDSA P-256 signing in-process: ${peer.toFixed(0)} signatures/s`);
    const at16 = levels.find((l) => l.clients === 16)!;
    out(`ratio tokens/signatures at 16 clients: ${(at16.rate / peer).toFixed(3)}`);
    const met = at16.rate >= 1000 && at16.p99 <= 20 && at16.failed === 0;
    out(
      `target ≥ 1 000 tokens/s and p99 ≤ 20 ms at 16 clients: ${met ? 'met' : `NOT met on this run (load average ${loadavg()[0]!.toFixed(1)})`}`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}
