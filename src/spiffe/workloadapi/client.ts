import { credentials, Metadata, type CallOptions, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { SpiffeId } from '../spiffeid/spiffe-id.js';
import type { JwtBundleSet, X509BundleSet } from '../bundle/set.js';
import type { X509Svid } from '../x509svid/svid.js';
import { JwtSvid } from '../jwtsvid/svid.js';
import { resolveAddress, type WorkloadApiAddress } from './address.js';
import { badResponse, fromGrpcError, WorkloadApiError } from './errors.js';
import { parseJwtBundles, parseX509Bundles, parseX509Context, type X509Context } from './parse.js';
import {
  SECURITY_HEADER,
  workloadApiClientConstructor,
  type JWTBundlesResponseMessage,
  type JWTSVIDRequestMessage,
  type JWTSVIDResponseMessage,
  type ValidateJWTSVIDRequestMessage,
  type ValidateJWTSVIDResponseMessage,
  type X509BundlesResponseMessage,
  type X509SVIDResponseMessage,
} from './proto.js';
import { watchStream, type WatchOptions } from './watch.js';

export interface ClientOptions {
  /** `unix:///path`, `unix:/path` or a path; defaults to `SPIFFE_ENDPOINT_SOCKET` from `env`, then the agent's default socket. */
  address?: string;
  env?: NodeJS.ProcessEnv;
  /** What a relative socket path is relative to (default: the process's working directory). */
  cwd?: string;
  /** Deadline of one-shot calls, in ms (default 30 000). Watches have none. */
  timeoutMs?: number;
}

/** Which SVID to take when the Workload API returns several (the first is the default). */
export interface SvidPick {
  spiffeId?: SpiffeId | string;
  hint?: string;
}

type Unary<Req, Res> = (req: Req, md: Metadata, opts: CallOptions, cb: (err: ServiceError | null, res?: Res) => void) => void;
type ServerStream<Req, Res> = (req: Req, md: Metadata, opts?: CallOptions) => ClientReadableStream<Res>;

interface RawClient extends Client {
  FetchX509SVID: ServerStream<object, X509SVIDResponseMessage>;
  FetchX509Bundles: ServerStream<object, X509BundlesResponseMessage>;
  FetchJWTSVID: Unary<JWTSVIDRequestMessage, JWTSVIDResponseMessage>;
  FetchJWTBundles: ServerStream<object, JWTBundlesResponseMessage>;
  ValidateJWTSVID: Unary<ValidateJWTSVIDRequestMessage, ValidateJWTSVIDResponseMessage>;
}

/**
 * A client of the SPIFFE Workload API over gRPC on a Unix socket, as go-spiffe's `workloadapi.Client`:
 * `fetch*` are one-shot, `watch*` stream updates and survive agent restarts. Every call carries the
 * `workload.spiffe.io: true` header. Close it when done.
 *
 * @example
 * const client = WorkloadApiClient.create({ address: 'unix:///run/evident/agent.sock' });
 * try { const svid = await client.fetchX509SVID(); } finally { client.close(); }
 */
export class WorkloadApiClient {
  private readonly raw: RawClient;
  private readonly timeoutMs: number;

  private constructor(
    readonly address: WorkloadApiAddress,
    options: ClientOptions,
  ) {
    const Ctor = workloadApiClientConstructor();
    this.raw = new Ctor(address.target, credentials.createInsecure(), {
      // Reconnect promptly after an agent restart; our own backoff paces the retries above this.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 5000,
    }) as unknown as RawClient;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Throws WorkloadApiError BAD_ADDRESS for an empty or non-`unix` address. Does not dial yet. */
  static create(options: ClientOptions = {}): WorkloadApiClient {
    return new WorkloadApiClient(resolveAddress(options.address, options.env, options.cwd), options);
  }

  close(): void {
    this.raw.close();
  }

  /** The default SVID (the first), or the one with the given SPIFFE ID or hint. */
  async fetchX509SVID(pick: SvidPick = {}): Promise<X509Svid> {
    return pickSvid((await this.fetchX509Context()).svids, pick);
  }

  async fetchX509SVIDs(): Promise<readonly X509Svid[]> {
    return (await this.fetchX509Context()).svids;
  }

  async fetchX509Context(): Promise<X509Context> {
    return parseX509Context(await this.first('FetchX509SVID', (md, o) => this.raw.FetchX509SVID({}, md, o)));
  }

  async fetchX509Bundles(): Promise<X509BundleSet> {
    return parseX509Bundles(await this.first('FetchX509Bundles', (md, o) => this.raw.FetchX509Bundles({}, md, o)));
  }

  async fetchJWTBundles(): Promise<JwtBundleSet> {
    return parseJwtBundles(await this.first('FetchJWTBundles', (md, o) => this.raw.FetchJWTBundles({}, md, o)));
  }

  /**
   * Streams X.509 contexts: one at once, then one per rotation. Survives stream ends and agent
   * restarts (exponential backoff); ends when `signal` aborts.
   *
   * @example
   * for await (const ctx of client.watchX509Context({ signal })) use(ctx.svids[0]);
   */
  watchX509Context(options: WatchOptions = {}): AsyncGenerator<X509Context, void, undefined> {
    return watchStream('FetchX509SVID', this.address.original, () => this.raw.FetchX509SVID({}, header()), parseX509Context, options);
  }

  watchX509Bundles(options: WatchOptions = {}): AsyncGenerator<X509BundleSet, void, undefined> {
    return watchStream('FetchX509Bundles', this.address.original, () => this.raw.FetchX509Bundles({}, header()), parseX509Bundles, options);
  }

  watchJWTBundles(options: WatchOptions = {}): AsyncGenerator<JwtBundleSet, void, undefined> {
    return watchStream('FetchJWTBundles', this.address.original, () => this.raw.FetchJWTBundles({}, header()), parseJwtBundles, options);
  }

  /** The JWT-SVID for `audience` (the first, or the one of `spiffeId`). */
  async fetchJWTSVID(params: { audience: string | readonly string[]; spiffeId?: SpiffeId | string; hint?: string }): Promise<JwtSvid> {
    return pickSvid(await this.fetchJWTSVIDs(params), params);
  }

  async fetchJWTSVIDs(params: { audience: string | readonly string[]; spiffeId?: SpiffeId | string }): Promise<readonly JwtSvid[]> {
    const audience = typeof params.audience === 'string' ? [params.audience] : [...params.audience];
    if (audience.length === 0 || audience.some((a) => a === '')) {
      throw new WorkloadApiError('INVALID_ARGUMENT', 'an audience is required to fetch a JWT-SVID', { code: 'BAD_INPUT' });
    }
    const spiffeId = params.spiffeId === undefined ? '' : SpiffeId.parse(params.spiffeId.toString()).toString();
    const res = await this.unary<JWTSVIDResponseMessage>('FetchJWTSVID', (md, o, cb) =>
      this.raw.FetchJWTSVID({ audience, spiffe_id: spiffeId }, md, o, cb),
    );
    if (res.svids.length === 0) throw badResponse('JWT-SVID response', new Error('no SVIDs in response'));
    return res.svids.map((s, i) => {
      try {
        // go-spiffe parses these without the signature check: they come straight from our own agent.
        return JwtSvid.parseInsecure(s.svid, audience, { hint: s.hint });
      } catch (e) {
        throw badResponse(`JWT-SVID #${i + 1}`, e);
      }
    });
  }

  /** Asks the agent to validate `token` for `audience`; returns the SVID (its ID and claims). */
  async validateJWTSVID(token: string, audience: string): Promise<JwtSvid> {
    if (audience === '')
      throw new WorkloadApiError('INVALID_ARGUMENT', 'an audience is required to validate a JWT-SVID', { code: 'BAD_INPUT' });
    const res = await this.unary<ValidateJWTSVIDResponseMessage>('ValidateJWTSVID', (md, o, cb) =>
      this.raw.ValidateJWTSVID({ audience, svid: token }, md, o, cb),
    );
    let svid: JwtSvid;
    try {
      svid = JwtSvid.parseInsecure(token, audience);
    } catch (e) {
      throw badResponse('validation result (the agent accepted a token that does not parse)', e);
    }
    if (svid.id.toString() !== res.spiffe_id) {
      throw badResponse('validation result', new Error(`agent says "${res.spiffe_id}", token says "${svid.id}"`));
    }
    return svid;
  }

  private deadline(): CallOptions {
    return { deadline: Date.now() + this.timeoutMs };
  }

  private unary<Res>(
    rpc: string,
    call: (md: Metadata, o: CallOptions, cb: (err: ServiceError | null, res?: Res) => void) => void,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      call(header(), this.deadline(), (err, res) => {
        if (err) reject(fromGrpcError(err, rpc, this.address.original));
        else if (res === undefined) reject(badResponse(`${rpc} response`, new Error('empty response')));
        else resolve(res);
      });
    });
  }

  /** The first message of a server stream, then the stream is cancelled. */
  private first<M>(rpc: string, open: (md: Metadata, o: CallOptions) => ClientReadableStream<M>): Promise<M> {
    return new Promise<M>((resolve, reject) => {
      const stream = open(header(), this.deadline());
      let done = false;
      const finish = (f: () => void): void => {
        if (done) return;
        done = true;
        f();
        stream.cancel();
      };
      stream.on('data', (m: M) => finish(() => resolve(m)));
      stream.on('error', (e: unknown) => finish(() => reject(fromGrpcError(e, rpc, this.address.original))));
      stream.on('end', () => finish(() => reject(new WorkloadApiError('UNAVAILABLE', `${rpc} stream closed before any response`))));
    });
  }
}

function header(): Metadata {
  const md = new Metadata();
  md.set(SECURITY_HEADER, 'true');
  return md;
}

/** The first SVID matching `pick` (all criteria optional), else a NO_SVID error listing what there is. */
export function pickSvid<S extends { id: SpiffeId; hint: string }>(svids: readonly S[], pick: SvidPick): S {
  const wantedId = pick.spiffeId === undefined ? undefined : SpiffeId.parse(pick.spiffeId.toString());
  const found = svids.find((s) => (wantedId === undefined || s.id.equals(wantedId)) && (pick.hint === undefined || s.hint === pick.hint));
  if (found === undefined) {
    const what = [wantedId ? `SPIFFE ID "${wantedId}"` : '', pick.hint !== undefined ? `hint "${pick.hint}"` : '']
      .filter(Boolean)
      .join(' and ');
    throw new WorkloadApiError(
      'NO_SVID',
      `no SVID with ${what || 'any identity'} among ${svids.map((s) => s.id.toString()).join(', ') || 'none'}`,
      {
        code: 'NOT_FOUND',
      },
    );
  }
  return found;
}

/** One-shot helpers that open a client, fetch and close, as go-spiffe's package-level functions. */
export async function fetchX509SVID(options: ClientOptions & SvidPick = {}): Promise<X509Svid> {
  return withClient(options, (c) => c.fetchX509SVID(options));
}

export async function fetchX509Context(options: ClientOptions = {}): Promise<X509Context> {
  return withClient(options, (c) => c.fetchX509Context());
}

export async function fetchX509Bundles(options: ClientOptions = {}): Promise<X509BundleSet> {
  return withClient(options, (c) => c.fetchX509Bundles());
}

export async function fetchJWTSVID(
  options: ClientOptions & { audience: string | readonly string[]; spiffeId?: SpiffeId | string },
): Promise<JwtSvid> {
  return withClient(options, (c) => c.fetchJWTSVID(options));
}

export async function fetchJWTBundles(options: ClientOptions = {}): Promise<JwtBundleSet> {
  return withClient(options, (c) => c.fetchJWTBundles());
}

export async function validateJWTSVID(options: ClientOptions & { token: string; audience: string }): Promise<JwtSvid> {
  return withClient(options, (c) => c.validateJWTSVID(options.token, options.audience));
}

async function withClient<T>(options: ClientOptions, f: (c: WorkloadApiClient) => Promise<T>): Promise<T> {
  const client = WorkloadApiClient.create(options);
  try {
    return await f(client);
  } finally {
    client.close();
  }
}
