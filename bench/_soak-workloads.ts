/**
 * The workloads of bench/identity-soak.ts, in a process of their own (forked, with an IPC channel) so their
 * latencies are not the coordinator's: `fetchers` workloads, each on its own connection to the agent's
 * Workload API, call FetchX509SVID `rate` times a second (out of phase) for the whole run, through the
 * outages too; `watchers` keep a FetchX509SVID stream open as go-spiffe's watcher does (WorkloadApiClient:
 * reopened with backoff when the agent goes away) and report every update. Every second the calls and
 * updates seen are sent to the coordinator; the process ends when told to, or when the coordinator is gone.
 */
import { X509Certificate } from 'node:crypto';
import { credentials, Metadata, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import {
  SECURITY_HEADER,
  WorkloadApiClient,
  workloadApiClientConstructor,
  type X509SVIDResponseMessage,
} from '../src/spiffe/workloadapi/index.js';

export interface SoakWorkloadSetup {
  socket: string;
  fetchers: number;
  rate: number;
  watchers: number;
}

/** One FetchX509SVID call: when it started (ms since epoch), how long it took, and what it got. */
export interface SoakCall {
  /** Which workload of its process made it. */
  w: number;
  at: number;
  ms: number;
  /** SVIDs in the answer (0 when the call failed). */
  svids: number;
  /** SVIDs in the answer that had expired when it arrived: a cache that served a stale identity. */
  expired: number;
  /** The gRPC status of a failed call. */
  error?: string;
}

/** One update on a watcher's stream: when it arrived, and each SVID's leaf serial by SPIFFE ID. */
export interface SoakUpdate {
  watcher: number;
  at: number;
  serials: Record<string, string>;
}

/** What the process sends: once `started`, then a report a second, and `finished` after the last one. */
export type SoakReport = { calls: SoakCall[]; updates: SoakUpdate[] };
export type FromSoakWorkloads = { started: true } | SoakReport | { finished: true };
export type ToSoakWorkloads = { setup: SoakWorkloadSetup } | { stop: true };

const CALL_DEADLINE_MS = 5000;

type Raw = Client & { FetchX509SVID(req: object, md: Metadata, o: { deadline: number }): ClientReadableStream<X509SVIDResponseMessage> };

/** The leaf (the first certificate of the SVID's DER chain): its serial, and whether it had expired at `now`. */
function leaf(der: Buffer, now: number): { serial: string; expired: boolean } {
  const cert = new X509Certificate(der);
  return { serial: cert.serialNumber, expired: new Date(cert.validTo).getTime() <= now };
}

function fetchOnce(c: Raw, w: number): Promise<SoakCall> {
  const md = new Metadata();
  md.set(SECURITY_HEADER, 'true');
  const at = Date.now();
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const s = c.FetchX509SVID({}, md, { deadline: Date.now() + CALL_DEADLINE_MS });
    s.on('data', (m: X509SVIDResponseMessage) => {
      if (settled) return;
      settled = true;
      const ms = performance.now() - t0;
      s.cancel();
      const now = Date.now();
      resolve({ w, at, ms, svids: m.svids.length, expired: m.svids.filter((x) => leaf(x.x509_svid, now).expired).length });
    });
    s.on('error', (e: { code?: number; details?: string }) => {
      if (settled) return;
      settled = true;
      resolve({ w, at, ms: performance.now() - t0, svids: 0, expired: 0, error: `${e.code ?? '?'} ${e.details ?? ''}`.trim() });
    });
  });
}

async function fetcher(c: Raw, w: number, rate: number, record: (call: SoakCall) => void, stopped: () => boolean): Promise<void> {
  const interval = 1000 / rate;
  let due = Date.now() + Math.random() * interval;
  while (!stopped()) {
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    due = Math.max(due + interval, Date.now()); // after a slow call (an outage), no burst to catch up
    record(await fetchOnce(c, w));
  }
}

async function watcher(n: number, socket: string, record: (u: SoakUpdate) => void, signal: AbortSignal): Promise<void> {
  const client = WorkloadApiClient.create({ address: `unix://${socket}` });
  try {
    // the agent's restart is seconds: retry every 200 ms to 2 s, not the default's up to 30 s
    for await (const ctx of client.watchX509Context({ signal, initialMs: 200, maxMs: 2000, onError: () => undefined })) {
      const serials: Record<string, string> = {};
      for (const s of ctx.svids) serials[s.id.toString()] = s.certificates[0]!.serialNumber;
      record({ watcher: n, at: Date.now(), serials });
    }
  } finally {
    client.close();
  }
}

async function run(setup: SoakWorkloadSetup): Promise<void> {
  const Ctor = workloadApiClientConstructor();
  // a subchannel pool per client: each workload its own connection, as separate processes would have
  const clients = Array.from(
    { length: setup.fetchers },
    () =>
      new Ctor(`unix://${setup.socket}`, credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      }) as unknown as Raw,
  );
  let calls: SoakCall[] = [];
  let updates: SoakUpdate[] = [];
  let stopped = false;
  const abort = new AbortController();
  const flush = (): void => {
    if (calls.length === 0 && updates.length === 0) return;
    const report: SoakReport = { calls, updates };
    calls = [];
    updates = [];
    process.send?.(report);
  };
  const ticker = setInterval(flush, 1000);
  const done = new Promise<void>((resolve) =>
    process.on('message', (m: ToSoakWorkloads) => {
      if ('stop' in m) resolve();
    }),
  );
  const running = [
    ...clients.map((c, w) =>
      fetcher(
        c,
        w,
        setup.rate,
        (call) => calls.push(call),
        () => stopped,
      ),
    ),
    ...Array.from({ length: setup.watchers }, (_, i) => watcher(i, setup.socket, (u) => updates.push(u), abort.signal)),
  ];
  process.send?.({ started: true });
  await done;
  stopped = true;
  abort.abort();
  await Promise.all(running);
  clearInterval(ticker);
  flush();
  for (const c of clients) c.close();
  process.send?.({ finished: true }); // the coordinator disconnects, which ends this process
}

process.once('disconnect', () => process.exit(0));
process.once('message', (m: ToSoakWorkloads) => {
  if ('setup' in m) void run(m.setup);
});
