import type { Metadata, sendUnaryData, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { JwtBundle } from '../../../spiffe/bundle/jwt-bundle.js';
import { JwtBundleSet } from '../../../spiffe/bundle/set.js';
import { JwtSvid } from '../../../spiffe/jwtsvid/svid.js';
import { TrustDomain } from '../../../spiffe/spiffeid/trust-domain.js';
import { SECURITY_HEADER } from '../../../spiffe/workloadapi/proto.js';
import type {
  JWTSVIDRequestMessage,
  JWTSVIDResponseMessage,
  ValidateJWTSVIDRequestMessage,
  ValidateJWTSVIDResponseMessage,
  X509BundlesResponseMessage,
  JWTBundlesResponseMessage,
  X509SVIDResponseMessage,
} from '../../../spiffe/workloadapi/proto.js';
import { toStruct } from '../../../spiffe/workloadapi/struct.js';
import { WorkloadAttestationError } from '../workloadattest/errors.js';
import type { WorkloadAttestorRegistry } from '../workloadattest/registry.js';
import type { Selector } from '../workloadattest/types.js';
import type { PeerConnections } from './connections.js';
import { dedupeBySpiffeId, fingerprint, jwtBundlesResponse, x509BundlesResponse, x509SvidResponse } from './responses.js';
import type { ServedEntry, TrustBundles, WorkloadIdentitySource } from './source.js';
import { internal, invalidArgument, permissionDenied, RpcStatus, unavailable } from './status.js';

export interface HandlerDeps {
  source: WorkloadIdentitySource;
  connections: PeerConnections;
  attestors: WorkloadAttestorRegistry;
  logger: Logger;
  /** How often the agent fetches entries (ms): said to a caller no entry matches, since a new one takes that long. */
  syncIntervalMs?: number;
}

const NO_IDENTITY = 'no identity issued';
/** The InvalidArgument details for a call without the header (the health check relies on it). */
export const SECURITY_HEADER_MISSING = 'security header missing from request';

/**
 * The five RPCs of the SPIFFE Workload API. Each call: the security header must be there; the caller is
 * the process on the other end of the connection (kernel credentials) and is attested afresh; then it
 * is served only what its entries allow. Streams push again whenever the source changes what they show.
 */
export class WorkloadApiHandlers {
  private readonly streams = new Set<ServerWritableStream<unknown, unknown>>();
  private jwtSetCache: { bundles: TrustBundles; set: JwtBundleSet } | undefined;

  constructor(private readonly deps: HandlerDeps) {}

  implementation(): UntypedServiceImplementation {
    return {
      FetchX509SVID: (call: ServerWritableStream<unknown, X509SVIDResponseMessage>) =>
        this.stream(call, 'FetchX509SVID', (entries) => x509SvidResponse(this.deps.source, entries)),
      FetchX509Bundles: (call: ServerWritableStream<unknown, X509BundlesResponseMessage>) =>
        this.stream(call, 'FetchX509Bundles', () => this.withBundles(x509BundlesResponse)),
      FetchJWTBundles: (call: ServerWritableStream<unknown, JWTBundlesResponseMessage>) =>
        this.stream(call, 'FetchJWTBundles', () => this.withBundles(jwtBundlesResponse)),
      FetchJWTSVID: (call: ServerUnaryCall<JWTSVIDRequestMessage, JWTSVIDResponseMessage>, cb: sendUnaryData<JWTSVIDResponseMessage>) =>
        this.unary(cb, 'FetchJWTSVID', () => this.fetchJwtSvid(call)),
      ValidateJWTSVID: (
        call: ServerUnaryCall<ValidateJWTSVIDRequestMessage, ValidateJWTSVIDResponseMessage>,
        cb: sendUnaryData<ValidateJWTSVIDResponseMessage>,
      ) => this.unary(cb, 'ValidateJWTSVID', () => this.validateJwtSvid(call)),
    };
  }

  /** Ends every open stream (agent shutdown): clients see the stream end and reconnect to the next agent. */
  endStreams(): void {
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Header check, then the caller's selectors and matching entries; PermissionDenied when none match. */
  private async authorize(
    call: { metadata: Metadata; getPeer(): string },
    rpc: string,
  ): Promise<{ selectors: Selector[]; entries: ServedEntry[] }> {
    const header = call.metadata.get(SECURITY_HEADER);
    if (header.length !== 1 || header[0] !== 'true') throw invalidArgument(SECURITY_HEADER_MISSING);
    const conn = this.deps.connections.acquire(call.getPeer());
    if (!conn) throw internal('the connection of this call is unknown to the agent');
    let selectors: Selector[];
    try {
      // The process that connected, as it was at accept: a call from a process that has since exec'd
      // another binary is refused (see PeerConnections.accept for what this check cannot see).
      if (conn.origin instanceof WorkloadAttestationError) throw conn.origin;
      selectors = await this.deps.attestors.attest(conn.cred, conn.pidfd, conn.origin);
    } catch (e) {
      if (!(e instanceof WorkloadAttestationError)) throw e;
      this.deps.logger.warn(
        { rpc, pid: conn.cred.pid, uid: conn.cred.uid, reason: e.reason, err: e.message },
        'workload attestation failed',
      );
      throw permissionDenied(`workload attestation failed: ${e.message}`);
    } finally {
      this.deps.connections.release(conn);
    }
    const entries = this.deps.source.matchEntries(selectors);
    this.deps.logger.debug({ rpc, pid: conn.cred.pid, uid: conn.cred.uid, entries: entries.map((e) => e.spiffeId) }, 'workload attested');
    if (entries.length === 0) {
      this.deps.logger.info({ rpc, pid: conn.cred.pid, uid: conn.cred.uid }, NO_IDENTITY);
      throw this.noIdentity(selectors);
    }
    return { selectors, entries };
  }

  /**
   * PermissionDenied for a caller no entry matches, saying what would match it and why a brand-new entry
   * may not yet: the agent learns of entries when it next fetches them. The selectors are the caller's own.
   */
  private noIdentity(selectors: readonly Selector[]): RpcStatus {
    const fetchedAt = this.deps.source.entriesFetchedAt?.();
    const interval = this.deps.syncIntervalMs;
    let when = '';
    if (fetchedAt !== undefined) {
      const ago = Math.max(0, Math.round((Date.now() - fetchedAt) / 1000));
      when = `; this agent fetched its entries ${ago}s ago`;
      if (interval !== undefined)
        when += ` and does every ${Math.round(interval / 1000)}s, so an entry created since arrives within that: retry`;
    }
    const mine = selectors.map((s) => `${s.type}:${s.value}`).join(' ');
    return permissionDenied(`${NO_IDENTITY}: no registration entry on this agent matches this process's selectors (${mine})${when}`);
  }

  private withBundles<M>(f: (b: TrustBundles) => M): M | undefined {
    const b = this.deps.source.bundles();
    return b ? f(b) : undefined;
  }

  private stream<M extends X509SVIDResponseMessage | X509BundlesResponseMessage | JWTBundlesResponseMessage>(
    call: ServerWritableStream<unknown, M>,
    rpc: string,
    build: (entries: ServedEntry[]) => M | undefined,
  ): void {
    const stream = call as ServerWritableStream<unknown, unknown>;
    let unsubscribe = (): void => undefined;
    let ended = false;
    const end = (status?: RpcStatus): void => {
      if (ended) return;
      ended = true;
      unsubscribe();
      this.streams.delete(stream);
      if (status) call.emit('error', status.toStatus());
    };
    call.on('cancelled', () => end());
    call.on('close', () => end());
    call.on('error', () => end());
    this.authorize(call, rpc).then(
      ({ selectors }) => {
        if (ended || call.cancelled) return;
        this.streams.add(stream);
        let last: string | undefined;
        const push = (): void => {
          if (ended) return;
          // Entries may have changed since the call began: match the caller's selectors again.
          const entries = this.deps.source.matchEntries(selectors);
          if (entries.length === 0) return end(this.noIdentity(selectors));
          const msg = build(entries);
          if (msg === undefined) return; // not issued yet: the next change sends it
          const fp = fingerprint(msg);
          if (fp === last) return;
          last = fp;
          try {
            call.write(msg);
          } catch (e) {
            // a stream whose client went away between its last event and this write: it ends here, alone
            end(this.toStatus(e, rpc));
          }
        };
        unsubscribe = this.deps.source.subscribe(push);
        push();
      },
      (e: unknown) => end(this.toStatus(e, rpc)),
    );
  }

  private unary<M>(cb: sendUnaryData<M>, rpc: string, run: () => Promise<M>): void {
    run().then(
      (res) => cb(null, res),
      (e: unknown) => cb(this.toStatus(e, rpc).toStatus()),
    );
  }

  private toStatus(e: unknown, rpc: string): RpcStatus {
    if (e instanceof RpcStatus) return e;
    this.deps.logger.error({ rpc, err: e }, 'Workload API call failed');
    return internal(`${rpc} failed: ${(e as Error)?.message ?? String(e)}`);
  }

  private async fetchJwtSvid(call: ServerUnaryCall<JWTSVIDRequestMessage, JWTSVIDResponseMessage>): Promise<JWTSVIDResponseMessage> {
    const { audience, spiffe_id: wanted } = call.request;
    if (audience.length === 0 || audience.some((a) => a === '')) throw invalidArgument('audience must be specified');
    const { entries } = await this.authorize(call, 'FetchJWTSVID');
    const chosen = wanted === '' ? entries : entries.filter((e) => e.spiffeId === wanted);
    if (chosen.length === 0) throw permissionDenied(`no identity issued for "${wanted}"`);
    const svids = [];
    for (const e of dedupeBySpiffeId(chosen)) {
      try {
        const t = await this.deps.source.jwtSvid(e, audience);
        svids.push({ spiffe_id: e.spiffeId, svid: t.token, hint: e.hint });
      } catch (err) {
        this.deps.logger.warn({ entry: e.id, err: (err as Error).message }, 'cannot get a JWT-SVID');
        throw unavailable(`cannot issue a JWT-SVID for "${e.spiffeId}" now: ${(err as Error).message}`);
      }
    }
    return { svids };
  }

  private async validateJwtSvid(
    call: ServerUnaryCall<ValidateJWTSVIDRequestMessage, ValidateJWTSVIDResponseMessage>,
  ): Promise<ValidateJWTSVIDResponseMessage> {
    const { audience, svid } = call.request;
    if (audience === '') throw invalidArgument('audience must be specified');
    if (svid === '') throw invalidArgument('svid must be specified');
    await this.authorize(call, 'ValidateJWTSVID');
    const set = this.jwtBundleSet();
    if (!set) throw unavailable('no trust bundle yet');
    try {
      const token = await JwtSvid.parseAndValidate(svid, set, [audience]);
      return { spiffe_id: token.id.toString(), claims: toStruct(token.claims as Record<string, unknown>) };
    } catch (e) {
      throw invalidArgument((e as Error).message);
    }
  }

  private jwtBundleSet(): JwtBundleSet | undefined {
    const bundles = this.deps.source.bundles();
    if (!bundles) return undefined;
    if (this.jwtSetCache?.bundles !== bundles) {
      const set = JwtBundleSet.of([...bundles.jwt].map(([td, jwks]) => JwtBundle.parse(TrustDomain.parse(td), jwks)));
      this.jwtSetCache = { bundles, set };
    }
    return this.jwtSetCache.set;
  }
}
