/**
 * `npm run bench -- identity-soak [--seconds=N]`: the identity plane under sustained load for minutes, with
 * faults (issue 20). Real processes, as a platform team runs them: `evident server run` (SQLite) and one
 * `evident agent run`, both killed with SIGKILL in the middle of the run and started again on the same data:
 * the server at 30 % of the run (down --outage seconds, default 5), the agent at 65 % (down 3 s).
 *
 * The load: --workloads workloads (default 100, each its own connection, in 2 processes of their own,
 * bench/_soak-workloads.ts) call FetchX509SVID --rate times a second (default 2) through everything, and 4
 * watchers keep a stream open; 3 entries serve the workloads and --fleet more (default 300, selectors no
 * workload has) make the agent keep that many SVIDs signed. Every X509-SVID lives --ttl seconds (default
 * 30), so the agent rotates each at half-life all the time; a new entry is created every 2 s.
 *
 * What must hold, checked and printed: during the server outage every workload call is answered with its
 * cached SVIDs, none expired (the Workload API keeps serving); nothing acknowledged is lost (every entry
 * whose creation was answered 201 is there after the restart; the agent's SVID on disk is the one the
 * datastore knows as current; the SVIDs served during the outage chain to the restarted server's bundle);
 * everything recovers (the agent catches up, rotations reach the watchers again, an entry created after
 * each restart reaches a workload, a new workload gets its SVIDs). Figures: SVIDs issued, rotations,
 * outage durations, times to recover, and Workload API latency (p50/p99) before, during and after each
 * outage, the steady state before the first fault being the peer of every later phase. --keep keeps the
 * scratch folder: the data dirs and each process's log. EVIDENT_SOAK_NODE_ARGS passes node flags to the
 * server and agent processes (e.g. --cpu-prof; a profile is written by the ones stopped at the end).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminRequest } from '../src/identity/server/index.js';
import { pemCertificates } from '../src/crypto/x509/index.js';
import { X509Bundle } from '../src/spiffe/bundle/index.js';
import { TrustDomain } from '../src/spiffe/spiffeid/index.js';
import { WorkloadApiClient } from '../src/spiffe/workloadapi/index.js';
import { verify, type X509Svid } from '../src/spiffe/x509svid/index.js';
import { ensureBuilt, evidentCommand, startEvident, type EvidentProcess } from '../test/helpers/evident-process.js';
import { freePort } from '../test/helpers/identity-server.js';
import { numberFlag } from './_flags.js';
import type { FromSoakWorkloads, SoakCall, SoakUpdate, ToSoakWorkloads } from './_soak-workloads.js';

const TD = 'soak.example';
/** How long a process may take to say it is ready before the run gives up (a loaded machine is slow, not stuck). */
const READY_MS = 120_000;
const AGENT_DOWN_MS = 3000;
const WORKLOAD_ENTRIES = 3;
const WATCHERS = 4;
const ENTRY_EVERY_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Polls `probe` every `everyMs` until it is true; the ms it took, or undefined at the deadline. */
async function timeUntil(probe: () => Promise<boolean>, deadlineMs: number, everyMs = 100): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < deadlineMs) {
    if (await probe().catch(() => false)) return Date.now() - t0;
    await sleep(everyMs);
  }
  return undefined;
}

/** The JSON log lines of a process's stderr (pino, as `--log-format json` and a non-terminal stderr give). */
function logLines(p: EvidentProcess): Record<string, unknown>[] {
  return p
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

/** The 2 workload processes; `calls` and `updates` fill as their reports arrive. */
async function startWorkloads(socket: string, fetchers: number, rate: number) {
  const file = join(dirname(fileURLToPath(import.meta.url)), '_soak-workloads.ts');
  const calls: SoakCall[] = [];
  const updates: SoakUpdate[] = [];
  const kids: ChildProcess[] = [];
  const finished: Promise<void>[] = [];
  for (let i = 0; i < 2; i++) {
    const kid = fork(file, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    kids.push(kid);
    let started!: () => void;
    const ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      kid.once('exit', (code) => reject(new Error(`a workload process exited (${code}) before it started`)));
    });
    finished.push(
      new Promise<void>((resolve) => {
        kid.on('message', (m: FromSoakWorkloads) => {
          if ('started' in m) started();
          else if ('finished' in m) resolve();
          else {
            calls.push(...m.calls.map((c) => ({ ...c, w: i * 100_000 + c.w }))); // workload numbers of both processes apart
            updates.push(...m.updates);
          }
        });
        kid.once('exit', () => resolve());
      }),
    );
    const setup: ToSoakWorkloads = {
      setup: { socket, fetchers: Math.floor(fetchers / 2) + (i < fetchers % 2 ? 1 : 0), rate, watchers: WATCHERS / 2 },
    };
    kid.send(setup);
    await Promise.race([ready, sleep(READY_MS).then(() => Promise.reject(new Error('a workload process did not start in time')))]);
  }
  return {
    calls,
    updates,
    async stop(): Promise<void> {
      for (const k of kids) if (k.connected) k.send({ stop: true } satisfies ToSoakWorkloads);
      await Promise.race([Promise.all(finished), sleep(30_000)]);
      for (const k of kids) {
        if (k.connected) k.disconnect();
        if (k.exitCode === null) k.kill('SIGKILL');
      }
    },
  };
}

interface Phase {
  name: string;
  from: number;
  to: number;
}

function phaseRow(p: Phase, calls: SoakCall[]): { text: string; p99: number } {
  const mine = calls.filter((c) => c.at >= p.from && c.at < p.to);
  const ok = mine.filter((c) => c.error === undefined);
  const lat = ok.map((c) => c.ms).sort((a, b) => a - b);
  const p99 = percentile(lat, 99);
  const errors = new Map<string, number>();
  for (const c of mine) if (c.error !== undefined) errors.set(c.error, (errors.get(c.error) ?? 0) + 1);
  const worst = [...errors].sort((a, b) => b[1] - a[1])[0];
  const text = `  ${p.name.padEnd(26)} ${((p.to - p.from) / 1000).toFixed(1).padStart(6)} s ${String(mine.length).padStart(7)} calls ${String(mine.length - ok.length).padStart(6)} failed  p50 ${percentile(lat, 50).toFixed(2).padStart(7)} ms  p99 ${p99.toFixed(2).padStart(7)} ms  max ${(lat[lat.length - 1] ?? NaN).toFixed(1).padStart(7)} ms${worst ? ` (most failed with ${worst[0].slice(0, 80)})` : ''}`;
  return { text, p99 };
}

/** Serial changes each watcher saw, per SPIFFE ID, between consecutive updates: rotations the workloads were told of. */
function rotationsSeen(updates: SoakUpdate[]): { total: number; times: number[] } {
  const last = new Map<number, Record<string, string>>();
  const times: number[] = [];
  for (const u of [...updates].sort((a, b) => a.at - b.at)) {
    const before = last.get(u.watcher);
    if (before)
      for (const [id, serial] of Object.entries(u.serials)) if (before[id] !== undefined && before[id] !== serial) times.push(u.at);
    last.set(u.watcher, u.serials);
  }
  return { total: times.length, times };
}

export default async function identitySoak(flags: string[]): Promise<void> {
  const seconds = numberFlag(flags, '--seconds') ?? 180;
  const fetchers = numberFlag(flags, '--workloads', { whole: true }) ?? 100;
  const rate = numberFlag(flags, '--rate') ?? 2;
  const fleet = numberFlag(flags, '--fleet', { whole: true }) ?? 300;
  const ttl = numberFlag(flags, '--ttl', { whole: true }) ?? 30;
  const outageMs = (numberFlag(flags, '--outage') ?? 5) * 1000;
  const keep = flags.includes('--keep');
  if (seconds < 60) throw new Error('--seconds must be at least 60: two outages and the recoveries after them need the time');
  if (outageMs * 3 > ttl * 1000)
    throw new Error(`--outage must be under a third of --ttl: a cached SVID rotated at half-life must outlive the outage`);
  const out = (s: string): void => void process.stdout.write(`${s}\n`);

  ensureBuilt();
  // EVIDENT_SOAK_NODE_ARGS passes node flags to the server and agent processes (e.g. --cpu-prof, written at their SIGTERM)
  const cmd = [...(process.env.EVIDENT_SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean), ...evidentCommand()];
  const dir = await mkdtemp(join(tmpdir(), 'evident-soak-'));
  const port = await freePort();
  const adminSocket = join(dir, 'server', 'admin.sock');
  const socket = join(dir, 'agent', 'api.sock');
  const admin = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> =>
    adminRequest(adminSocket, method, path, body);
  const serverArgs = [
    'server',
    'run',
    '--trust-domain',
    TD,
    '--data-dir',
    join(dir, 'server'),
    '--bind',
    `127.0.0.1:${port}`,
    '--admin-socket',
    adminSocket,
    '--x509-svid-ttl',
    `${ttl}s`,
    '--log-format',
    'json',
  ];
  const processes: EvidentProcess[] = [];
  const started = async (args: string[], ready: RegExp): Promise<{ p: EvidentProcess; ms: number }> => {
    const t = Date.now();
    const p = startEvident(cmd, args, dir);
    processes.push(p);
    await p.waitFor(ready, READY_MS);
    return { p, ms: Date.now() - t };
  };
  let workloads: Awaited<ReturnType<typeof startWorkloads>> | undefined;
  let creating = true;
  try {
    await mkdir(join(dir, 'agent'), { recursive: true });
    const first = await started(serverArgs, /server ready/);
    let server = first.p;
    await writeFile(join(dir, 'bundle.pem'), (await admin('GET', '/v1/bundle?format=pem')).body as string);
    const token = ((await admin('POST', '/v1/join-tokens', {})).body as { token: string }).token;
    const agentId = `spiffe://${TD}/evident/agent/join_token/${token}`;
    const uid = process.getuid?.() ?? 0;
    const entry = async (path: string, selector: string): Promise<boolean> =>
      (
        await admin('POST', '/v1/entries', {
          spiffe_id: `spiffe://${TD}${path}`,
          parent_id: agentId,
          selectors: [selector],
          x509_svid_ttl: ttl,
        })
      ).status === 201;
    for (let i = 0; i < WORKLOAD_ENTRIES; i++) await entry(`/workload/${i}`, `unix:uid:${uid}`);
    for (let i = 0; i < fleet; i += 50)
      await Promise.all(Array.from({ length: Math.min(50, fleet - i) }, (_, j) => entry(`/fleet/${i + j}`, `unix:uid:${100_000 + i + j}`)));
    const agentArgs = [
      'agent',
      'run',
      '--server',
      `127.0.0.1:${port}`,
      '--trust-bundle',
      'bundle.pem',
      '--join-token',
      token,
      '--socket',
      socket,
      '--data-dir',
      join(dir, 'agent', 'data'),
      '--log-format',
      'json',
    ];
    const firstAgent = await started(agentArgs, /agent ready/);
    let agent = firstAgent.p;
    const agents = [agent];
    workloads = await startWorkloads(socket, fetchers, rate);
    const t0 = Date.now();
    const at = (fraction: number): number => t0 + fraction * seconds * 1000;

    // a new entry every 2 s for the whole run: those answered 201 are acknowledged, and must never be lost
    const acknowledged: string[] = [];
    let refused = 0;
    const creator = (async () => {
      for (let n = 0; creating; n++) {
        const path = `/soak/new-${n}`;
        try {
          if (await entry(path, `unix:uid:${200_000 + n}`)) acknowledged.push(`spiffe://${TD}${path}`);
          else refused++;
        } catch {
          refused++; // the server is down: not acknowledged, nothing promised
        }
        await sleep(ENTRY_EVERY_MS);
      }
    })();

    // the client of one more workload, which keeps what it was served during the server outage
    const probe = WorkloadApiClient.create({ address: `unix://${socket}`, timeoutMs: 5000 });
    const servedIds = async (): Promise<string[]> => (await probe.fetchX509SVIDs()).map((s) => s.id.toString());

    // --- the server: kill -9, down for --outage, started again on the same data dir
    await sleep(at(0.3) - Date.now());
    const serverKilled = Date.now();
    await server.stop('SIGKILL');
    const heldDuringOutage: X509Svid[] = [];
    const outageProbe = (async () => {
      while (Date.now() - serverKilled < outageMs) {
        heldDuringOutage.push(...(await probe.fetchX509SVIDs().catch(() => [])));
        await sleep(500);
      }
    })();
    await sleep(outageMs);
    await outageProbe;
    const restart = await started(serverArgs, /server ready/);
    server = restart.p;
    const serverBack = Date.now();
    const entriesAfter = new Set(
      ((await admin('GET', '/v1/entries')).body as { entries: { spiffe_id: string }[] }).entries.map((e) => e.spiffe_id),
    );
    const lostEntries = acknowledged.filter((id) => !entriesAfter.has(id));
    const bundleAfter = X509Bundle.parse(
      TrustDomain.parse(TD),
      Buffer.concat(pemCertificates((await admin('GET', '/v1/bundle?format=pem')).body as string)),
    );
    const unverifiable = heldDuringOutage.filter((svid) => {
      try {
        verify(svid, bundleAfter, { time: new Date(serverKilled) });
        return false;
      } catch {
        return true;
      }
    }).length;
    const caughtUp = await agent.waitFor(/the server is reachable again/, 60_000).then(
      () => Date.now() - serverBack,
      () => undefined,
    );
    const created = await entry('/workload/after-server-restart', `unix:uid:${uid}`);
    const newEntryServed = created
      ? await timeUntil(async () => (await servedIds()).includes(`spiffe://${TD}/workload/after-server-restart`), 60_000)
      : undefined;

    // --- the agent: kill -9, down 3 s, started again with its data dir (its stored SVID; the token is spent)
    await sleep(at(0.65) - Date.now());
    const agentKilled = Date.now();
    await agent.stop('SIGKILL');
    await sleep(AGENT_DOWN_MS);
    const agentRestart = await started(agentArgs, /agent ready/);
    agent = agentRestart.p;
    agents.push(agent);
    const agentBack = Date.now();
    const freshServed = await timeUntil(async () => {
      const fresh = WorkloadApiClient.create({ address: `unix://${socket}`, timeoutMs: 5000 });
      try {
        return (await fresh.fetchX509SVIDs()).length >= WORKLOAD_ENTRIES;
      } finally {
        fresh.close();
      }
    }, 60_000);
    const created2 = await entry('/workload/after-agent-restart', `unix:uid:${uid}`);
    const newEntryServed2 = created2
      ? await timeUntil(async () => (await servedIds()).includes(`spiffe://${TD}/workload/after-agent-restart`), 60_000)
      : undefined;

    await sleep(at(1) - Date.now());
    const end = Date.now();
    creating = false;
    await creator;
    await workloads.stop();
    probe.close();

    // the agent's SVID on disk is the one the datastore holds as its current one (a renewal just made is promoted on first use)
    const diskSerial = async (): Promise<string> =>
      new X509Certificate(await readFile(join(dir, 'agent', 'data', 'agent-svid.pem'))).serialNumber.toLowerCase().replace(/^0+/, '');
    const storedSerial = async (): Promise<string> =>
      (
        ((await admin('GET', '/v1/agents')).body as { agents: { spiffe_id: string; serial: string }[] }).agents.find(
          (a) => a.spiffe_id === agentId,
        )?.serial ?? ''
      )
        .toLowerCase()
        .replace(/^0+/, '');
    const serialAgrees = (await timeUntil(async () => (await diskSerial()) === (await storedSerial()), 20_000, 500)) !== undefined;
    const finalEntries = new Set(
      ((await admin('GET', '/v1/entries')).body as { entries: { spiffe_id: string }[] }).entries.map((e) => e.spiffe_id),
    );
    const lostAtEnd = acknowledged.filter((id) => !finalEntries.has(id));

    // --- figures
    const calls = workloads.calls;
    const agentLog = agents.flatMap(logLines);
    const issued = agentLog.reduce((n, l) => n + (l.msg === 'workload SVIDs updated' ? Number(l.issued ?? 0) : 0), 0);
    const renewals = agentLog.filter((l) => l.msg === 'agent SVID renewed').length;
    const rotations = rotationsSeen(workloads.updates);
    const firstRotationAfter = (t: number): number | undefined => {
      const r = rotations.times.find((x) => x >= t);
      return r === undefined ? undefined : r - t;
    };
    const watcherBack = (() => {
      // a push in flight at the kill still lands: not the restarted agent's
      const after = workloads.updates.filter((u) => u.at > agentKilled + 1000).map((u) => u.at);
      return after.length === 0 ? undefined : Math.min(...after) - agentBack;
    })();
    const servedAgain = (() => {
      // per fetching workload: its first answered call after the kill, counted from when the agent was back
      const firstOk = new Map<number, number>();
      for (const c of calls)
        if (c.at >= agentKilled && c.error === undefined && !firstOk.has(c.w)) firstOk.set(c.w, c.at + c.ms - agentBack);
      return firstOk.size === 0 ? undefined : [...firstOk.values()].sort((a, b) => a - b);
    })();
    // a call that failed while the agent was up: none should (the first seconds after its restart aside, while clients reconnect)
    const failedWhileUp = calls.filter((c) => c.error !== undefined && (c.at + c.ms < agentKilled || c.at >= agentBack + 2000));
    const duringServerOutage = calls.filter((c) => c.at >= serverKilled && c.at < serverBack);
    const outageFailures = duringServerOutage.filter((c) => c.error !== undefined).length;
    const expiredServed = calls.reduce((n, c) => n + c.expired, 0);
    const s = (ms: number | undefined): string => (ms === undefined ? 'never (within 60 s)' : `${(ms / 1000).toFixed(2)} s`);
    const rel = (t: number): string => `${((t - t0) / 1000).toFixed(0)} s`;

    out(
      `identity soak: ${((end - t0) / 1000).toFixed(0)} s; ${fetchers} workloads calling FetchX509SVID ${rate}/s each (own connection, 2 processes) and ${WATCHERS} watchers; ${WORKLOAD_ENTRIES} workload entries + ${fleet} fleet entries (X509-SVID TTL ${ttl} s, rotated at half-life), a new entry every ${ENTRY_EVERY_MS / 1000} s`,
    );
    out(
      `  SVIDs issued to the agent: ${issued} (${(issued / ((end - t0) / 1000)).toFixed(1)}/s); agent SVID renewals: ${renewals}; rotations seen by the watchers: ${rotations.total}`,
    );
    out(`  entries created: ${acknowledged.length} acknowledged, ${refused} refused or unanswered (while the server was down)`);
    out(
      `  server: first start ${s(first.ms)}; kill -9 at ${rel(serverKilled)}, down ${s(serverBack - serverKilled)} (of which restart ${s(restart.ms)}); after it was back: agent caught up ${s(caughtUp)}, next rotation seen by a watcher ${s(firstRotationAfter(serverBack))}, a new entry served ${s(newEntryServed)}`,
    );
    out(
      `  agent: first start ${s(firstAgent.ms)}; kill -9 at ${rel(agentKilled)}, down ${s(agentBack - agentKilled)} (of which restart ${s(agentRestart.ms)}); after it was back: a new workload served ${s(freshServed)}, workloads served again p50 ${s(servedAgain && percentile(servedAgain, 50))} max ${s(servedAgain?.[servedAgain.length - 1])}, watchers updated ${s(watcherBack)}, a new entry served ${s(newEntryServed2)}, next rotation seen ${s(firstRotationAfter(agentBack))}`,
    );
    const phases: Phase[] = [
      { name: 'before (the peer)', from: t0 + 5000, to: serverKilled },
      { name: 'server down', from: serverKilled, to: serverBack },
      { name: 'after the server restart', from: serverBack, to: agentKilled },
      { name: 'agent down', from: agentKilled, to: agentBack },
      { name: 'after the agent restart', from: agentBack, to: end },
    ];
    out('  Workload API FetchX509SVID latency (answered calls):');
    const rows = phases.map((p) => phaseRow(p, calls));
    for (const r of rows) out(r.text);
    const base = rows[0]!.p99;
    out(
      `  p99 ratio to before: server down ${(rows[1]!.p99 / base).toFixed(2)}, after the server restart ${(rows[2]!.p99 / base).toFixed(2)}, after the agent restart ${(rows[4]!.p99 / base).toFixed(2)}`,
    );
    const checks: [boolean, string][] = [
      [
        outageFailures === 0 && duringServerOutage.length > 0,
        `${duringServerOutage.length - outageFailures} of ${duringServerOutage.length} workload calls answered while the server was down`,
      ],
      [expiredServed === 0, `${expiredServed} expired SVIDs served in the whole run`],
      [
        failedWhileUp.length === 0,
        `${failedWhileUp.length} workload calls failed while the agent was up${failedWhileUp.length > 0 ? ` (at ${[...new Set(failedWhileUp.map((c) => rel(c.at)))].slice(0, 8).join(', ')}: ${failedWhileUp[0]!.error})` : ''}`,
      ],
      [
        lostEntries.length === 0 && lostAtEnd.length === 0,
        `acknowledged entries lost: ${lostEntries.length} at the server restart, ${lostAtEnd.length} at the end (of ${acknowledged.length})`,
      ],
      [
        heldDuringOutage.length > 0 && unverifiable === 0,
        `SVIDs served during the outage that do not chain to the restarted server's bundle: ${unverifiable} of ${heldDuringOutage.length}`,
      ],
      [serialAgrees, "the agent's SVID on disk is the datastore's current one for the agent"],
      [
        caughtUp !== undefined && newEntryServed !== undefined && firstRotationAfter(serverBack) !== undefined,
        'after the server restart: the agent caught up, rotations resumed, a new entry was served',
      ],
      [
        freshServed !== undefined && newEntryServed2 !== undefined && firstRotationAfter(agentBack) !== undefined,
        'after the agent restart: a new workload was served, rotations resumed, a new entry was served',
      ],
    ];
    for (const [ok, what] of checks) out(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
    out(
      `  machine: ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    if (checks.some(([ok]) => !ok)) process.exitCode = 1;
    if (keep) {
      const events = { t0, serverKilled, serverBack, agentKilled, agentBack, end };
      await writeFile(join(dir, 'workloads.json'), JSON.stringify({ events, calls, updates: workloads.updates }));
    }
  } finally {
    creating = false;
    await workloads?.stop();
    // SIGTERM, and SIGKILL for one that has not gone 10 s later
    await Promise.all(processes.map((p) => Promise.race([p.stop('SIGTERM'), sleep(10_000).then(() => p.stop('SIGKILL'))])));
    if (keep) {
      // each process's log beside its data: server-1.log is the one killed, agent-2.log the restarted agent
      const count = new Map<string, number>();
      for (const p of processes) {
        const kind = p.child.spawnargs.includes('server') ? 'server' : 'agent';
        const n = (count.get(kind) ?? 0) + 1;
        count.set(kind, n);
        await writeFile(join(dir, `${kind}-${n}.log`), p.stderr());
      }
      out(`  kept: ${dir} (data dirs and logs)`);
    } else await rm(dir, { recursive: true, force: true });
  }
}
