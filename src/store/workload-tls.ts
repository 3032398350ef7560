import { EvidentError } from '../errors.js';
import { SpiffeId } from '../spiffe/spiffeid/spiffe-id.js';
import { pickSvid, WorkloadApiClient } from '../spiffe/workloadapi/client.js';
import type { X509Context } from '../spiffe/workloadapi/parse.js';
import { UploaderBundle } from './auth.js';
import type { StoreTls, StoreTlsSource } from './tls-source.js';

export interface WorkloadTlsOptions {
  /** The Workload API, a path or `unix://` URI; default `SPIFFE_ENDPOINT_SOCKET` from `env`, then the agent's default socket. */
  readonly address?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** What a relative socket path is relative to. */
  readonly cwd?: string;
  /** Which SVID to serve when the Workload API gives several (default: the first, the workload's default identity). */
  readonly spiffeId?: string;
  /** How long `first()` waits for an SVID (default 30 s). */
  readonly firstWithinMs?: number;
  /** Told of each SVID served and each problem the watch survives, one line. */
  readonly log?: (line: string) => void;
}

/**
 * The store's HTTPS identity from the SPIFFE Workload API (`store serve --spiffe-socket`): its
 * X509-SVID, and the bundles (own and federated trust domains) that client X509-SVIDs must chain to in
 * order to write. One watch (the Workload API client's watchX509Context) delivers the first and then
 * every rotation; it survives agent restarts, so a store outlives its agent for as long as its SVID does.
 *
 * @throws EvidentError BAD_INPUT for a socket address or `spiffeId` that cannot be right (before any wait)
 */
export function workloadTls(options: WorkloadTlsOptions = {}): StoreTlsSource {
  return new WorkloadTls(options);
}

class WorkloadTls implements StoreTlsSource {
  private readonly client: WorkloadApiClient;
  private readonly spiffeId: SpiffeId | undefined;
  private readonly stop = new AbortController();
  private readonly listeners: ((tls: StoreTls) => void)[] = [];
  private started: Promise<StoreTls> | undefined;
  /** What went wrong last, for the message when no SVID comes at all. */
  private lastProblem: string | undefined;
  /** Whether an SVID was served: problems before are said once, in the message of first(). */
  private served = false;

  constructor(private readonly o: WorkloadTlsOptions) {
    this.client = WorkloadApiClient.create({ address: o.address, env: o.env, cwd: o.cwd });
    try {
      this.spiffeId = o.spiffeId === undefined ? undefined : SpiffeId.parse(o.spiffeId);
    } catch (e) {
      this.client.close();
      throw new EvidentError('BAD_INPUT', `store: --spiffe-id: ${(e as Error).message}`);
    }
  }

  first(): Promise<StoreTls> {
    this.started ??= this.watch();
    return this.started;
  }

  onChange(listener: (tls: StoreTls) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.stop.abort();
    this.client.close();
  }

  private watch(): Promise<StoreTls> {
    const withinMs = this.o.firstWithinMs ?? 30_000;
    const where = this.client.address.original;
    return new Promise<StoreTls>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.close();
        const why = this.lastProblem === undefined ? '' : ` (last: ${this.lastProblem})`;
        reject(new EvidentError('ENVIRONMENT', `store: no X509-SVID from the Workload API at ${where} within ${withinMs / 1000} s${why}`));
      }, withinMs);
      const updates = this.client.watchX509Context({ signal: this.stop.signal, onError: (e) => this.problem(e.message) });
      void (async () => {
        try {
          for await (const context of updates) {
            const tls = this.tlsOf(context);
            if (tls === undefined) continue;
            if (!this.served) {
              this.served = true;
              clearTimeout(timer);
              resolve(tls);
            } else {
              for (const listener of this.listeners) listener(tls);
            }
          }
        } catch (e) {
          // only a refusal of the request itself (InvalidArgument) ends a watch: the agent will not change its mind
          clearTimeout(timer);
          if (!this.served) {
            this.close();
            reject(e);
          } else {
            this.problem(`${(e as Error).message}; no more rotations: serving the last X509-SVID until it expires`);
          }
        }
      })();
    });
  }

  /** The SVID to serve from one update, or undefined (said why) when it has not the one asked for. */
  private tlsOf(context: X509Context): StoreTls | undefined {
    let svid;
    try {
      svid = pickSvid(context.svids, { spiffeId: this.spiffeId });
    } catch (e) {
      this.problem((e as Error).message);
      return undefined;
    }
    const { certificates, privateKey } = svid.marshal();
    const domains = context.bundles.bundles().map((b) => b.trustDomain.name);
    this.o.log?.(
      `X509-SVID ${svid.id.toString()} (expires ${svid.expiresAt.toISOString()}); uploads by X509-SVIDs of ${domains.join(', ')}`,
    );
    this.lastProblem = undefined;
    return { cert: certificates, key: privateKey, uploaders: UploaderBundle.of(context.bundles) };
  }

  private problem(message: string): void {
    this.lastProblem = message;
    if (this.served) this.o.log?.(`Workload API: ${message}`);
  }
}
