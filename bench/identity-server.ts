/**
 * SVIDs issued per second by one identity server over its agent API (gRPC, mutual TLS), the server in
 * its own process and this process acting as the agent. The peer measured in the same run is the same
 * CA code signing in-process with no API in between. Both are also given per CPU-second of the process
 * doing the signing, which stays meaningful on a machine other work is loading. The floor under both is
 * raw ECDSA P-256 signing (node:crypto, what the CA signs with) of the same to-be-signed bytes, measured
 * in the same run: a CA cannot beat it, and the goal (issue 20) is ≥ 25 % of it per CPU-second and
 * ≥ 5 000 SVIDs/s over the API on 2 cores. Flags: --seconds=N (default 5), --batch=N (default 50),
 * --concurrency=N (default 4).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { asn1, AsnConvert } from '../src/crypto/x509/x509.js';
import { CaManager } from '../src/identity/server/ca/index.js';
import { adminRequest, ManualClock, openSqliteDatastore } from '../src/identity/server/index.js';
import { AgentApiClient } from '../src/identity/proto/index.js';
import { numberFlag } from './_flags.js';

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Raw ECDSA P-256 signatures per second and per CPU-second over `tbs`, with a key of the CA's type. */
function rawSigningRate(tbs: Buffer, seconds: number): { wall: number; cpu: number } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 100; i++) sign('sha256', tbs, privateKey);
    n += 100;
  }
  const cpu = process.cpuUsage(c0);
  return { wall: n / ((performance.now() - t0) / 1000), cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

/** The TBSCertificate of a certificate (its first element), as signed. */
function toBeSigned(der: Buffer): Buffer {
  return Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, asn1.Certificate).tbsCertificate));
}

async function peerRate(dir: string, seconds: number): Promise<{ wall: number; cpu: number; tbs: Buffer }> {
  const ds = openSqliteDatastore(join(dir, 'peer.sqlite3'));
  const ca = await CaManager.open({
    trustDomain: 'peer.example',
    datastore: ds,
    clock: new ManualClock(Date.now()),
    caTtl: 86400,
    x509SvidTtl: 3600,
    jwtSvidTtl: 300,
    keyType: 'ec-p256',
  });
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
  const tbs = toBeSigned((await ca.signX509Svid('spiffe://peer.example/w', key)).chain[0]!);
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await ca.signX509Svid('spiffe://peer.example/w', key);
    n++;
  }
  const cpu = process.cpuUsage(c0);
  await ds.close();
  return { wall: n / ((performance.now() - t0) / 1000), cpu: n / ((cpu.user + cpu.system) / 1e6), tbs };
}

export default async function identityServerBench(flags: string[]): Promise<void> {
  const seconds = numberFlag(flags, '--seconds') ?? 5;
  const batch = numberFlag(flags, '--batch', { whole: true }) ?? 50;
  const concurrency = numberFlag(flags, '--concurrency', { whole: true }) ?? 4;
  const td = 'bench.example.org';
  const dir = await mkdtemp(join(tmpdir(), 'evident-bench-'));
  const here = dirname(fileURLToPath(import.meta.url));
  // EVIDENT_BENCH_SERVER_NODE_ARGS passes node flags to the server process (e.g. --cpu-prof)
  const nodeArgs = (process.env.EVIDENT_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(here, '_identity-server-child.ts'), td, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const clients: AgentApiClient[] = [];
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
    });
    const info = JSON.parse(first) as { address: string; adminSocket: string; roots: string[] };
    const roots = info.roots.map((r) => Buffer.from(r, 'base64'));
    const token = ((await adminRequest(info.adminSocket, 'POST', '/v1/join-tokens', {})).body as { token: string }).token;
    const agentId = `spiffe://${td}/evident/agent/join_token/${token}`;
    const entry = (
      (
        await adminRequest(info.adminSocket, 'POST', '/v1/entries', {
          spiffe_id: `spiffe://${td}/w`,
          parent_id: agentId,
          selectors: ['unix:uid:1000'],
        })
      ).body as { id: string }
    ).id;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const anon = new AgentApiClient({ address: info.address, trustDomain: td, trustBundle: roots });
    clients.push(anon);
    const res = await anon.attest({
      type: 'join_token',
      payload: Buffer.from(token),
      key: { public_key: publicKey.export({ format: 'der', type: 'spki' }) },
    });
    const agent = new AgentApiClient({
      address: info.address,
      trustDomain: td,
      trustBundle: roots,
      identity: { certChain: res.svid!.cert_chain, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string },
    });
    clients.push(agent);
    const workloadKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
    const params = Array.from({ length: batch }, () => ({ entry_id: entry, key: { public_key: workloadKey } }));
    await agent.signX509Svids(params); // warm up
    let issued = 0;
    let failed = 0;
    const cpu0 = cpuSeconds(child.pid!);
    const t1 = performance.now();
    const deadline = t1 + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          for (const r of await agent.signX509Svids(params)) {
            if (r.svid) issued++;
            else failed++;
          }
        }
      }),
    );
    const wall = (performance.now() - t1) / 1000;
    const serverCpu = cpuSeconds(child.pid!) - cpu0;
    const apiRate = issued / wall;
    const peer = await peerRate(dir, Math.max(1, seconds / 2));
    const out = (s: string) => process.stdout.write(`${s}\n`);
    out(
      `identity server over the agent API: ${apiRate.toFixed(0)} X509-SVIDs/s (${(issued / serverCpu).toFixed(0)} per server CPU-second; batch ${batch}, ${concurrency} calls in flight, ${failed} failed)`,
    );
    out(`peer, the CA in-process without the API: ${peer.wall.toFixed(0)} SVIDs/s (${peer.cpu.toFixed(0)} per CPU-second)`);
    out(`ratio API/peer: ${(apiRate / peer.wall).toFixed(2)} wall, ${(issued / serverCpu / peer.cpu).toFixed(2)} per CPU-second`);
    const raw = rawSigningRate(peer.tbs, Math.max(1, seconds / 2));
    out(
      `floor, raw ECDSA P-256 signing of the same ${peer.tbs.length}-byte TBS: ${raw.wall.toFixed(0)}/s (${raw.cpu.toFixed(0)} per CPU-second); API ${((issued / serverCpu / raw.cpu) * 100).toFixed(0)} %, in-process CA ${((peer.cpu / raw.cpu) * 100).toFixed(0)} % of it per CPU-second (goal ≥ 25 %)`,
    );
    const share = issued / serverCpu / raw.cpu;
    const met = apiRate >= 5000 && share >= 0.25;
    out(
      `goal (issue 20, 2 cores) ≥ 5 000 SVIDs/s over the API and ≥ 25 % of raw signing per CPU-second: ${met ? 'met' : `NOT met on this run (load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`}`,
    );
  } finally {
    for (const c of clients) c.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}
