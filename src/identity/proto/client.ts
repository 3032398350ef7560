import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { EvidentError } from '../../errors.js';
import { certificatesToPem, parseCertificateDer } from '../../crypto/x509/index.js';
import type { SpiffeId } from '../../spiffe/spiffeid/index.js';
import { idFromCert } from '../../spiffe/x509svid/index.js';
import { agentApiError } from './grpc-errors.js';
import { serverIdFor } from './server-id.js';
import { agentServiceDefinition } from './load.js';
import type {
  AttestAgentRequest, AttestAgentResponse, AttestParams, AttestResult, Bundle, Entry, FetchEntriesResponse, KeyRequest,
  RenewAgentResponse, SignJwtSvidRequest, SignJwtSvidResponse, SignX509SvidsResponse, SvidParams, SvidResult, X509Svid,
} from './messages.js';

export interface AgentClientOptions {
  /** `host:port` of the server's agent API. */
  address: string;
  trustDomain: string;
  /** X.509 roots (DER) the server's certificate must chain to: the bundle, or the bootstrap bundle. */
  trustBundle: Buffer[];
  /** The agent's SVID (DER chain, leaf first) and key, for the calls after attestation. */
  identity?: { certChain: Buffer[]; privateKeyPem: string };
  /** Per-call deadline in ms (default 30 s). */
  timeoutMs?: number;
}

/**
 * The TLS server name every agent API client sends. It is never checked (the server's SPIFFE ID is), but
 * without it grpc-js sends the address's host, and Node warns (DEP0123) when that is an IP address.
 */
export const AGENT_API_CHANNEL_OPTIONS = { 'grpc.ssl_target_name_override': 'evident-server' } as const;

function pem(ders: Buffer[]): Buffer {
  return Buffer.from(certificatesToPem(ders));
}


/** Why the server's certificate does not carry the server's SPIFFE ID (as its one URI SAN), or undefined when it does. */
function serverIdentityProblem(cert: PeerCertificate, expected: SpiffeId): Error | undefined {
  let id: SpiffeId;
  try {
    id = idFromCert(parseCertificateDer(cert.raw), 'BAD_SIGNATURE');
  } catch (e) {
    return new Error(`server identity is not a SPIFFE ID (${(e as Error).message}), want ${expected}`);
  }
  return id.equals(expected) ? undefined : new Error(`server identity is ${id}, want ${expected}`);
}

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => grpc.ClientUnaryCall;

/**
 * A client of the server's agent API: what an agent (and the tests, and the benchmark) uses to attest,
 * renew, fetch entries and bundles, and have SVIDs signed. Errors are EvidentErrors whose `cause` is
 * the gRPC error: `cause.code` is the gRPC status.
 */
export class AgentApiClient {
  private readonly client: grpc.Client & Record<string, Unary | ((...a: unknown[]) => grpc.ClientDuplexStream<unknown, unknown>)>;
  private readonly timeoutMs: number;
  private readonly address: string;

  constructor(opts: AgentClientOptions) {
    this.address = opts.address;
    const expected = serverIdFor(opts.trustDomain);
    const creds = grpc.credentials.createSsl(
      pem(opts.trustBundle),
      opts.identity ? Buffer.from(opts.identity.privateKeyPem) : null,
      opts.identity ? pem(opts.identity.certChain) : null,
      {
        checkServerIdentity: (_host: string, cert: PeerCertificate) => serverIdentityProblem(cert, expected),
      },
    );
    const Ctor = grpc.makeGenericClientConstructor(agentServiceDefinition(), 'AgentService');
    this.client = new Ctor(opts.address, creds, AGENT_API_CHANNEL_OPTIONS) as unknown as AgentApiClient['client'];
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  private unary<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      (this.client[method] as Unary)(req, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err) reject(agentApiError(method, this.address, err));
        else resolve(res as T);
      });
    });
  }

  /**
   * Attests this node: sends the attestor's payload and the key for the agent SVID, answers each
   * challenge with `onChallenge`, and returns the agent SVID and the bundle.
   */
  attest(params: AttestParams, onChallenge?: (challenge: Buffer) => Buffer | Promise<Buffer>): Promise<AttestResult> {
    return new Promise((resolve, reject) => {
      const call = (this.client.AttestAgent as (md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<AttestAgentRequest, AttestAgentResponse>)(
        new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs });
      let done = false;
      call.on('data', (res: AttestAgentResponse) => {
        if (res.result) {
          done = true;
          call.end();
          resolve(res.result);
        } else if (res.challenge) {
          if (!onChallenge) {
            call.cancel();
            reject(new EvidentError('BAD_INPUT', `agent API: AttestAgent: the server sent a challenge this attestor cannot answer`));
            return;
          }
          Promise.resolve(onChallenge(res.challenge)).then((answer) => call.write({ challenge_response: answer }), (e: unknown) => {
            call.cancel();
            reject(e);
          });
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (!done) reject(agentApiError('AttestAgent', this.address, err));
      });
      call.on('end', () => {
        if (!done) reject(new EvidentError('ENVIRONMENT', 'agent API: AttestAgent: the server ended the stream without a result'));
      });
      call.write({ params });
    });
  }

  async renew(key: KeyRequest): Promise<X509Svid> {
    const res = await this.unary<RenewAgentResponse>('RenewAgent', { key });
    if (!res.svid) throw new EvidentError('INTERNAL', 'agent API: RenewAgent returned no SVID');
    return res.svid;
  }

  async fetchEntries(): Promise<Entry[]> {
    return (await this.unary<FetchEntriesResponse>('FetchEntries', {})).entries;
  }

  async signX509Svids(params: SvidParams[]): Promise<SvidResult[]> {
    return (await this.unary<SignX509SvidsResponse>('SignX509Svids', { params })).results;
  }

  signJwtSvid(req: SignJwtSvidRequest): Promise<SignJwtSvidResponse> {
    return this.unary<SignJwtSvidResponse>('SignJwtSvid', req);
  }

  async fetchBundle(): Promise<Bundle> {
    const res = await this.unary<{ bundle?: Bundle }>('FetchBundle', {});
    if (!res.bundle) throw new EvidentError('INTERNAL', 'agent API: FetchBundle returned no bundle');
    return res.bundle;
  }

  close(): void {
    this.client.close();
  }
}
