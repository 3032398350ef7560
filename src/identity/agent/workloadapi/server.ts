import { unlink } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import { workloadApiServiceDefinition } from '../../../spiffe/workloadapi/proto.js';
import { loadPeercred } from '../peercred/peercred.js';
import { DEFAULT_WORKLOAD_ATTESTORS, workloadAttestorCatalog } from '../catalog.js';
import { WorkloadAttestorRegistry } from '../workloadattest/registry.js';
import { PeerConnections } from './connections.js';
import { WorkloadApiHandlers } from './handlers.js';
import { openSocketPermissions, prepareSocketPath } from './socket.js';
import type { WorkloadIdentitySource } from './source.js';

export interface WorkloadApiServerOptions {
  socketPath: string;
  source: WorkloadIdentitySource;
  /** Default: the catalog's default ones (`unix`). */
  attestors?: WorkloadAttestorRegistry;
  logger?: Logger;
  /** How often the source's entries are refreshed (ms), for the hint a caller without identity gets. */
  syncIntervalMs?: number;
}

type Injector = ReturnType<GrpcServer['createConnectionInjector']>;

/**
 * The SPIFFE Workload API on a Unix socket. We accept the connections ourselves (a `net.Server`), read
 * each one's kernel credentials, then hand it to gRPC through a connection injector; handlers map a
 * call back to its connection by the peer label set at accept (see PeerConnections).
 *
 * @example
 * const api = await WorkloadApiServer.start({ socketPath: '/tmp/evident-agent/public/api.sock', source: cache });
 * …
 * await api.close();
 */
export class WorkloadApiServer {
  private closed = false;

  private constructor(
    readonly socketPath: string,
    private readonly net: NetServer,
    private readonly grpc: GrpcServer,
    private readonly injector: Injector,
    private readonly handlers: WorkloadApiHandlers,
    readonly connections: PeerConnections,
    private readonly logger: Logger,
  ) {}

  static async start(options: WorkloadApiServerOptions): Promise<WorkloadApiServer> {
    loadPeercred(); // fail now, with the build hint, rather than on the first connection
    const logger = options.logger ?? pino({ level: 'silent' });
    const connections = new PeerConnections();
    const attestors =
      options.attestors ??
      new WorkloadAttestorRegistry(
        await workloadAttestorCatalog.build(workloadAttestorCatalog.withDefaults(DEFAULT_WORKLOAD_ATTESTORS), undefined),
      );
    const handlers = new WorkloadApiHandlers({
      source: options.source,
      connections,
      attestors,
      logger,
      ...(options.syncIntervalMs !== undefined ? { syncIntervalMs: options.syncIntervalMs } : {}),
    });
    const grpc = new GrpcServer();
    grpc.addService(workloadApiServiceDefinition(), handlers.implementation());
    const injector = grpc.createConnectionInjector(ServerCredentials.createInsecure());
    const net = createServer((socket: Socket) => {
      try {
        connections.accept(socket);
      } catch (e) {
        // No credentials, no service: the caller cannot be identified.
        logger.warn({ err: (e as Error).message }, 'cannot read the credentials of a Workload API connection; closing it');
        socket.destroy();
        return;
      }
      injector.injectConnection(socket);
    });
    await prepareSocketPath(options.socketPath);
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      net.listen(options.socketPath, () => {
        net.off('error', reject);
        resolve();
      });
    });
    net.on('error', (e) => logger.error({ err: e }, 'Workload API socket error'));
    await openSocketPermissions(options.socketPath);
    logger.info({ socket: options.socketPath }, 'Workload API listening');
    return new WorkloadApiServer(options.socketPath, net, grpc, injector, handlers, connections, logger);
  }

  get openStreams(): number {
    return this.handlers.openStreams;
  }

  /**
   * Stops accepting, ends the open streams (clients reconnect elsewhere), lets calls in flight finish
   * for up to `graceMs`, then closes everything and removes the socket.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const netClosed = new Promise<void>((resolve) => this.net.close(() => resolve()));
    this.handlers.endStreams();
    this.injector.drain(graceMs);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.grpc.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.injector.destroy();
    await netClosed;
    await unlink(this.socketPath).catch(() => undefined);
    this.logger.info({ socket: this.socketPath }, 'Workload API closed');
  }
}
