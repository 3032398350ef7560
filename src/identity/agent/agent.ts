import { generateKeyPair as generateKeyPairCb, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { pino, type Logger } from 'pino';
import { EvidentError } from '../../errors.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { AGENT_SYNC_INTERVAL_MS } from '../common/sync.js';
import { routeGrpcLogs } from '../proto/grpc-log.js';
import type { X509Svid } from '../proto/messages.js';
import type { NodeAttestorClient } from './attestor-client.js';
import { SvidCache } from './cache.js';
import { AgentDataDir, type AgentIdentity } from './identity-store.js';
import { fetchBundleInsecure, isRejected, isUnreachable, ServerLink } from './server-link.js';
import { SvidSync } from './svid-sync.js';
import { trustBundlesFromProto, trustDomainOfCa } from './trust-bundle.js';
import { WorkloadApiServer } from './workloadapi/server.js';
import { checkSocketUsable } from './workloadapi/socket.js';
import type { WorkloadAttestorRegistry } from './workloadattest/registry.js';

const generateKeyPair = promisify(generateKeyPairCb);

export interface AgentOptions {
  /** `host:port` of the server's agent API. */
  serverAddress: string;
  /** Roots to trust the server with at first contact (`--trust-bundle`). */
  bootstrapRoots?: Buffer[];
  /** Default: the trust domain named by the bootstrap roots (their `spiffe://td` URI SAN). */
  trustDomain?: string;
  /** Take the server's bundle on trust when there are no roots (labs only; logged loudly). */
  insecureBootstrap?: boolean;
  attestor: NodeAttestorClient;
  dataDir: string;
  socketPath: string;
  logger?: Logger;
  /** Decides renewal at half-life and expiry, the agent's and its cache's (default: the system clock). */
  clock?: Clock;
  /** How often entries and bundles are fetched (ms, default 5000); rotations are scheduled on their own. */
  syncIntervalMs?: number;
  /** Deadline of each agent API call (ms, default 10000). */
  rpcTimeoutMs?: number;
  /** Default: the catalog's default ones (`unix`). */
  attestors?: WorkloadAttestorRegistry;
}

/** Shortest wait between two rounds, so a burst of due rotations does not spin. */
const MIN_WAIT_MS = 100;

/**
 * The agent: attests its node to the server, keeps its own SVID fresh, syncs the entries it may serve
 * and their SVIDs into its cache, and serves the cache on the Workload API. When the server is down it
 * keeps serving what is still valid and catches up when the server returns.
 *
 * @example
 * const agent = await Agent.start({ serverAddress: '127.0.0.1:8081', bootstrapRoots, attestor, dataDir, socketPath });
 * await agent.done; // until stop(), or a fatal error (the agent can no longer prove who it is)
 */
export class Agent {
  readonly cache: SvidCache;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (e: Error) => void;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private chain: Promise<void> = Promise.resolve();
  private fatal: EvidentError | undefined;
  private outage = false;
  private bundleKey = '';
  private api: WorkloadApiServer | undefined;
  private readonly sync: SvidSync;
  /** Whether this process attested with its attestor's credentials (single-use ones are then gone). */
  private attestorSpent = false;

  private constructor(
    private readonly o: Required<Pick<AgentOptions, 'syncIntervalMs' | 'rpcTimeoutMs'>> & AgentOptions,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly data: AgentDataDir,
    private readonly link: ServerLink,
    readonly trustDomain: string,
    private identity: AgentIdentity,
  ) {
    this.cache = new SvidCache({ clock, onListenerError: (err) => log.error({ err }, 'a Workload API stream could not be updated') });
    this.cache.setJwtSigner(async (entry, audience) => {
      const res = await this.link.signJwtSvid({ entry_id: entry.id, audience: [...audience] });
      return { token: res.token, expiresAt: new Date(res.expires_at * 1000) };
    });
    this.sync = new SvidSync(this.cache, link, clock, log);
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
  }

  get spiffeId(): string {
    return this.identity.spiffeId;
  }

  get socketPath(): string {
    return this.o.socketPath;
  }

  static async start(options: AgentOptions): Promise<Agent> {
    const o = { syncIntervalMs: AGENT_SYNC_INTERVAL_MS, rpcTimeoutMs: 10_000, ...options };
    const log = o.logger ?? pino({ level: 'silent' });
    if (o.logger) routeGrpcLogs(log);
    const clock = o.clock ?? systemClock;
    const data = new AgentDataDir(o.dataDir);
    await data.init();
    // Before attesting: a join token is spent by attestation, and an agent that then cannot serve wastes it.
    await checkSocketUsable(o.socketPath);
    // The newest bundle the server sent (it knows rotated CAs) and the operator's roots (a reinstalled server).
    let roots: Buffer[] | undefined = uniqueDer([...((await data.loadBundle()) ?? []), ...(o.bootstrapRoots ?? [])]);
    let trustDomain = o.trustDomain;
    if (roots === undefined || roots.length === 0) {
      if (!o.insecureBootstrap)
        throw new EvidentError('BAD_USAGE', 'agent: no trust bundle to trust the server with: pass --trust-bundle FILE');
      log.warn(
        { server: o.serverAddress },
        'INSECURE BOOTSTRAP: trusting whatever answers at the server address; anyone on the path can impersonate the server',
      );
      const b = await fetchBundleInsecure(o.serverAddress, o.rpcTimeoutMs);
      roots = b.x509_authorities;
      trustDomain ??= b.trust_domain;
    }
    for (const r of roots) trustDomain ??= trustDomainOfCa(r);
    if (trustDomain === undefined)
      throw new EvidentError('BAD_USAGE', 'agent: the trust bundle names no trust domain (no spiffe:// URI SAN): pass --trust-domain');
    const link = new ServerLink(o.serverAddress, trustDomain, roots, o.rpcTimeoutMs);
    let identity = await data.loadIdentity(clock.now());
    if (identity && (identity.notAfter <= clock.now() || !identity.spiffeId.startsWith(`spiffe://${trustDomain}/`))) identity = undefined;
    try {
      if (identity)
        log.info({ agent: identity.spiffeId, expires: new Date(identity.notAfter).toISOString() }, 'using the stored agent SVID');
      const attested = identity === undefined;
      if (identity === undefined) identity = await attestNode(link, o.attestor, data, clock, log);
      link.update({ identity });
      const agent = new Agent(o, log, clock, data, link, trustDomain, identity);
      agent.attestorSpent = attested;
      await agent.round(); // a first round before serving, so workloads find their SVIDs at once
      if (agent.fatal) throw agent.fatal;
      agent.api = await WorkloadApiServer.start({
        socketPath: o.socketPath,
        source: agent.cache,
        logger: log,
        syncIntervalMs: o.syncIntervalMs,
        ...(o.attestors ? { attestors: o.attestors } : {}),
      });
      agent.schedule();
      return agent;
    } catch (e) {
      link.close();
      throw e;
    }
  }

  /** Runs one round now (tests; otherwise rounds run on their own). */
  syncNow(): Promise<void> {
    return this.round();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.chain.catch(() => undefined);
    await this.api?.close();
    this.link.close();
    this.log.info('agent stopped');
    if (this.fatal) this.rejectDone(this.fatal);
    else this.resolveDone();
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    let wait = this.outage ? Math.min(1000, this.o.syncIntervalMs) : this.o.syncIntervalMs;
    const rotation = this.sync.nextRotation();
    if (rotation !== undefined) wait = Math.min(wait, rotation - now);
    wait = Math.min(wait, this.renewAt() - now);
    this.timer = setTimeout(
      () => {
        void this.round().finally(() => this.schedule());
      },
      Math.max(MIN_WAIT_MS, wait),
    );
    this.timer.unref?.();
  }

  private renewAt(): number {
    return this.identity.issuedAt + (this.identity.notAfter - this.identity.issuedAt) / 2;
  }

  /** Rounds run one at a time, whoever asks for them. */
  private round(): Promise<void> {
    this.chain = this.chain.then(() => this.roundOnce());
    return this.chain;
  }

  /** One round: the agent SVID if due, then bundle, entries and SVIDs. Never throws; a fatal problem stops the agent. */
  private async roundOnce(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.clock.now() >= this.renewAt()) await this.renewAgentSvid();
      await this.syncBundle();
      await this.sync.sync();
      if (this.outage) this.log.info('the server is reachable again; caught up');
      this.outage = false;
    } catch (e) {
      if (isUnreachable(e)) {
        if (!this.outage)
          this.log.warn({ err: (e as Error).message }, 'the server is unreachable; serving cached SVIDs while they are valid');
        this.outage = true;
        if (this.clock.now() >= this.identity.notAfter) await this.reattestOrFail(e);
      } else if (isRejected(e)) {
        this.log.warn({ err: (e as Error).message }, 'the server refused the agent SVID');
        await this.reattestOrFail(e);
      } else {
        this.log.error({ err: e }, 'sync round failed');
      }
    }
  }

  private async renewAgentSvid(): Promise<void> {
    if (this.o.attestor.renewsByAttesting) {
      await this.adopt(await attestNode(this.link, this.o.attestor, this.data, this.clock, this.log));
      return;
    }
    const { publicKey, privateKey } = await generateKeyPair('ec', { namedCurve: 'P-256' });
    const svid = await this.link.renew(publicKey.export({ type: 'spki', format: 'der' }));
    await this.adopt(toIdentity(svid, privateKey, this.clock.now()));
    this.log.info({ agent: this.identity.spiffeId, expires: new Date(this.identity.notAfter).toISOString() }, 'agent SVID renewed');
  }

  private async adopt(identity: AgentIdentity): Promise<void> {
    // an attestation by what the machine is (a TPM's EK) names another agent when the machine changed: said loudly
    if (identity.spiffeId !== this.identity.spiffeId)
      this.log.warn({ before: this.identity.spiffeId, agent: identity.spiffeId }, 'the node attested under another agent ID');
    await this.data.saveIdentity(identity);
    this.identity = identity;
    this.link.update({ identity });
  }

  private async syncBundle(): Promise<void> {
    const bundle = await this.link.fetchBundle();
    const key = `${bundle.sequence}|${bundle.x509_authorities.map((d) => d.toString('base64')).join(',')}|${bundle.jwt_authorities.map((a) => a.kid).join(',')}`;
    if (key === this.bundleKey) return;
    this.bundleKey = key;
    this.cache.setBundles(trustBundlesFromProto(bundle));
    await this.data.saveBundle(bundle.x509_authorities);
    this.link.update({ roots: bundle.x509_authorities });
    this.log.info(
      { sequence: bundle.sequence, x509_authorities: bundle.x509_authorities.length, jwt_authorities: bundle.jwt_authorities.length },
      'trust bundle updated',
    );
  }

  private async reattestOrFail(cause: unknown): Promise<void> {
    // A join token is spent once it attested; one this agent was started with but never used (it had a
    // stored SVID, which this server does not accept: another server's, or evicted) can still attest.
    if (!this.o.attestor.canReattest && this.attestorSpent) {
      return this.fail(
        new EvidentError(
          'ENVIRONMENT',
          `agent: the server no longer accepts this agent (${(cause as Error).message}) and a join token cannot be used twice; start the agent with a new --join-token`,
          { cause },
        ),
      );
    }
    try {
      this.attestorSpent = true;
      await this.adopt(await attestNode(this.link, this.o.attestor, this.data, this.clock, this.log));
    } catch (e) {
      if (isUnreachable(e)) {
        this.log.warn({ err: (e as Error).message }, 'cannot re-attest: the server is unreachable; will retry');
        return;
      }
      this.fail(
        e instanceof EvidentError
          ? e
          : new EvidentError('ENVIRONMENT', `agent: re-attestation failed: ${(e as Error).message}`, { cause: e }),
      );
    }
  }

  private fail(e: EvidentError): void {
    this.fatal ??= e;
    this.log.error({ err: e.message }, 'agent stopping');
    void this.stop();
  }
}

function uniqueDer(certs: Buffer[]): Buffer[] {
  const seen = new Set<string>();
  return certs.filter((c) => {
    const k = c.toString('base64');
    return !seen.has(k) && seen.add(k);
  });
}

function toIdentity(svid: X509Svid, privateKey: KeyObject, now: number): AgentIdentity {
  return { spiffeId: svid.spiffe_id, certChain: svid.cert_chain, privateKey, notAfter: svid.expires_at * 1000, issuedAt: now };
}

/** Node attestation: the attestor's payload and a fresh key; the agent SVID is stored before use. */
async function attestNode(
  link: ServerLink,
  attestor: NodeAttestorClient,
  data: AgentDataDir,
  clock: Clock,
  log: Logger,
): Promise<AgentIdentity> {
  const { publicKey, privateKey } = await generateKeyPair('ec', { namedCurve: 'P-256' });
  let result;
  try {
    result = await link.attest(
      { type: attestor.type, payload: await attestor.payload(), key: { public_key: publicKey.export({ type: 'spki', format: 'der' }) } },
      attestor.answer?.bind(attestor),
    );
  } catch (e) {
    if (isRejected(e))
      throw new EvidentError(
        'BAD_INPUT',
        `agent: node attestation (${attestor.type}) refused by the server: ${(e as Error).message.replace(/^agent API: AttestAgent: /, '')}`,
        { cause: e },
      );
    throw e;
  } finally {
    await attestor.close?.();
  }
  if (!result.svid) throw new EvidentError('INTERNAL', 'agent: the server attested the node but sent no SVID');
  const identity = toIdentity(result.svid, privateKey, clock.now());
  await data.saveIdentity(identity);
  if (result.bundle) await data.saveBundle(result.bundle.x509_authorities);
  log.info({ agent: identity.spiffeId, attestor: attestor.type, expires: new Date(identity.notAfter).toISOString() }, 'node attested');
  return identity;
}
