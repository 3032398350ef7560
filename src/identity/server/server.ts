import { mkdir, unlink } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { EvidentError } from '../../errors.js';
import { agentServiceDefinition, listenProblem, routeGrpcLogs } from '../proto/index.js';
import { agentServiceHandlers } from './api/agent-service.js';
import { startAdminServer } from './api/admin-server.js';
import { selectorKindsFor } from './entries/selector-kinds.js';
import { AgentSyncs } from './entries/propagation.js';
import { ServerTlsIdentity } from './api/tls.js';
import { CaManager, loadUpstreamCa } from './ca/index.js';
import { nodeAttestorCatalog } from './catalog.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { ServerConfig } from './config.js';
import { openDatastore, type Datastore } from './datastore/index.js';
import { silentLogger } from './log.js';
import { NodeAttestorRegistry } from './nodeattest/index.js';
import type { ServerTsa } from './tsa.js';

/** How long expired join tokens and agents stay listed, so an operator can still see what expired and when. */
const EXPIRED_RECORD_GRACE_MS = 86_400_000;

/**
 * How often housekeeping runs: every 10 s, or often enough that the server's own certificate (an X509-SVID)
 * is renewed and the signing CA rotated on time when the TTLs are short (a lab, a test).
 */
function housekeepingInterval(cfg: ServerConfig): number {
  return Math.max(100, Math.min(10_000, (cfg.x509SvidTtl * 1000) / 8, (cfg.caTtl * 1000) / 24));
}

export interface ServerOptions {
  config: ServerConfig;
  clock?: Clock;
  log?: Logger;
  /** How often the CA rotation and the server certificate are checked (ms; by default from the TTLs, at most 10 s). */
  tickMs?: number;
}

/**
 * The identity server: datastore, CA, the agent API (gRPC over TLS on `bind`) and the admin API
 * (HTTP/JSON on a Unix socket). `start` returns once both listen; `stop` shuts down gracefully.
 */
export class IdentityServer {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  private constructor(
    readonly config: ServerConfig,
    readonly ds: Datastore,
    readonly ca: CaManager,
    private readonly grpcServer: grpc.Server,
    private readonly admin: HttpServer,
    /** `host:port` the agent API listens on (the real port when `bind` asked for port 0). */
    readonly agentApiAddress: string,
    private readonly log: Logger,
    private readonly tsa: ServerTsa | undefined,
  ) {}

  /** `host:port` the time-stamping authority listens on (`tsa_bind`, the real port for port 0); undefined without one. */
  get tsaAddress(): string | undefined {
    return this.tsa?.address;
  }

  static async start(opts: ServerOptions): Promise<IdentityServer> {
    const cfg = opts.config;
    const clock = opts.clock ?? systemClock;
    const log = opts.log ?? silentLogger();
    if (opts.log) routeGrpcLogs(log);
    await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
    const ds = await openDatastore(cfg.datastore, cfg.dataDir);
    const cleanup: (() => Promise<unknown>)[] = [() => ds.close()];
    try {
      const upstream = cfg.upstreamCaCert && cfg.upstreamCaKey ? await loadUpstreamCa(cfg.upstreamCaCert, cfg.upstreamCaKey) : undefined;
      const ca = await CaManager.open({
        trustDomain: cfg.trustDomain,
        datastore: ds,
        clock,
        caTtl: cfg.caTtl,
        rootTtl: cfg.rootTtl,
        x509SvidTtl: cfg.x509SvidTtl,
        jwtSvidTtl: cfg.jwtSvidTtl,
        keyType: cfg.caKeyType,
        ...(upstream ? { upstream } : {}),
      });
      const attestors = new NodeAttestorRegistry();
      for (const a of await nodeAttestorCatalog.build(cfg.nodeAttestors, { ds, clock })) attestors.register(a);
      const tls = new ServerTlsIdentity(ca, clock, cfg.trustDomain);
      await tls.renew();
      ca.onChange(() => void tls.renew().catch((e: unknown) => log.error({ err: e }, 'server certificate renewal failed')));

      const syncs = new AgentSyncs();
      const grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': 16 << 20 });
      grpcServer.addService(
        agentServiceDefinition(),
        agentServiceHandlers({ trustDomain: cfg.trustDomain, ds, ca, clock, attestors, log, syncs }),
      );
      const creds = grpc.experimental.createCertificateProviderServerCredentials(tls, tls, false);
      const port = await new Promise<number>((resolve, reject) =>
        grpcServer.bindAsync(cfg.bind, creds, (err, p) =>
          err ? reject(new EvidentError('ENVIRONMENT', listenProblem(err.message, cfg.bind))) : resolve(p),
        ),
      );
      cleanup.push(() => new Promise<void>((r) => grpcServer.tryShutdown(() => r())));
      const tsa = cfg.tsaBind === undefined ? undefined : await startTsa(cfg.tsaBind, ca, clock, cfg.caTtl, log);
      if (tsa) cleanup.push(() => tsa.close());
      const admin = await startAdminServer(cfg.adminSocket, {
        trustDomain: cfg.trustDomain,
        ds,
        ca,
        clock,
        log,
        selectorKinds: selectorKindsFor(cfg.nodeAttestors.map((p) => p.name)),
        syncs,
      });
      const host = cfg.bind.slice(0, cfg.bind.lastIndexOf(':'));
      const server = new IdentityServer(cfg, ds, ca, grpcServer, admin, `${host}:${port}`, log, tsa);
      server.timer = setInterval(() => server.tick(tls, clock), opts.tickMs ?? housekeepingInterval(cfg));
      server.timer.unref();
      return server;
    } catch (e) {
      for (const c of cleanup.reverse()) await c().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Periodic housekeeping: CA rotation and server cert renewal, then dropping long-expired records. Each
   * step runs whether or not the other failed: a CA problem must not let the datastore grow forever.
   */
  private tick(tls: ServerTlsIdentity, clock: Clock): void {
    if (this.ticking) return;
    this.ticking = (async () => {
      try {
        await this.rotate(tls).catch((e: unknown) => this.log.error({ err: e }, 'CA rotation failed'));
        await this.prune(clock.now()).catch((e: unknown) => this.log.error({ err: e }, 'pruning expired records failed'));
      } finally {
        this.ticking = undefined;
      }
    })();
  }

  private async rotate(tls: ServerTlsIdentity): Promise<void> {
    const changed = await this.ca.rotate();
    if (changed)
      this.log.info(
        { keys: this.ca.keys().map((k) => ({ kind: k.kind, status: k.status, not_after: new Date(k.notAfter).toISOString() })) },
        'CA keys changed',
      );
    if (!changed && tls.needsRenewal()) await tls.renew();
    // renew() looks itself whether the certificate is at half life or under a root no longer active
    await this.tsa?.renew();
  }

  /**
   * Drops join tokens and agents that expired more than a grace period ago. An agent goes once its
   * current and pending SVIDs have both expired: it can no longer call, and can only come back by
   * attesting again (join-token agents cannot: their token is used, then pruned, so unknown).
   */
  private async prune(now: number): Promise<void> {
    const before = now - EXPIRED_RECORD_GRACE_MS;
    await this.ds.joinTokens.prune(before);
    const agents = await this.ds.agents.prune(before);
    if (agents > 0) this.log.info({ agents }, 'pruned agents whose SVIDs expired');
  }

  /** Stops accepting calls, lets running ones finish (up to `graceMs`), and closes the datastore. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await this.tsa?.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.grpcServer.forceShutdown();
        resolve();
      }, graceMs);
      this.grpcServer.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await new Promise<void>((resolve) => {
      this.admin.close(() => resolve());
      this.admin.closeAllConnections();
    });
    await unlink(this.config.adminSocket).catch(() => undefined);
    await this.ds.close();
  }
}

/**
 * The time-stamping authority on `bind`; when the CA's keys change it renews its certificate if a root
 * rotation made another root the issuer (tokens must chain to the new root at once), not for every
 * signing-CA rotation. Loaded only when asked for: a server without one need not load the TSA.
 */
async function startTsa(bind: string, ca: CaManager, clock: Clock, ttl: number, log: Logger): Promise<ServerTsa> {
  const { ServerTsa } = await import('./tsa.js');
  const tsa = new ServerTsa(ca, clock, ttl, log);
  await tsa.start(bind);
  ca.onChange(() => void tsa.renew().catch((e: unknown) => log.error({ err: e }, 'TSA certificate renewal failed')));
  log.info({ tsa: tsa.url }, 'tsa listening');
  return tsa;
}
