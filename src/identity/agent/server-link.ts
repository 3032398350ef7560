import * as grpc from '@grpc/grpc-js';
import { EvidentError } from '../../errors.js';
import { AGENT_API_CHANNEL_OPTIONS, AgentApiClient } from '../proto/client.js';
import { agentApiError } from '../proto/grpc-errors.js';
import { agentServiceDefinition } from '../proto/load.js';
import type {
  AttestParams,
  AttestResult,
  Bundle,
  Entry,
  SignJwtSvidRequest,
  SignJwtSvidResponse,
  SvidParams,
  SvidResult,
  X509Svid,
} from '../proto/messages.js';
import type { AgentIdentity } from './identity-store.js';

/** The gRPC status behind an agent API failure (AgentApiClient keeps the ServiceError as `cause`). */
export function grpcStatusOf(e: unknown): grpc.status | undefined {
  const cause = (e as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'number' ? (cause.code as grpc.status) : undefined;
}

/** The server cannot be reached (or did not answer in time): keep serving from the cache and retry. */
export function isUnreachable(e: unknown): boolean {
  const code = grpcStatusOf(e);
  return (
    code === grpc.status.UNAVAILABLE ||
    code === grpc.status.DEADLINE_EXCEEDED ||
    (e instanceof EvidentError && e.code === 'ENVIRONMENT' && code === undefined)
  );
}

/** The server no longer accepts the agent SVID (evicted, expired, unknown CA): attest again. */
export function isRejected(e: unknown): boolean {
  const code = grpcStatusOf(e);
  return code === grpc.status.UNAUTHENTICATED || code === grpc.status.PERMISSION_DENIED;
}

/**
 * The agent's connection to the server's agent API. The roots it trusts the server with and the agent
 * SVID it presents change (CA rotation, renewal); each change replaces the underlying client.
 */
export class ServerLink {
  private client: AgentApiClient;
  private roots: Buffer[];
  private identity: AgentIdentity | undefined;

  constructor(
    private readonly address: string,
    private readonly trustDomain: string,
    roots: Buffer[],
    private readonly timeoutMs: number,
  ) {
    this.roots = roots;
    this.client = this.make();
  }

  private make(): AgentApiClient {
    return new AgentApiClient({
      address: this.address,
      trustDomain: this.trustDomain,
      trustBundle: this.roots,
      timeoutMs: this.timeoutMs,
      ...(this.identity
        ? {
            identity: {
              certChain: this.identity.certChain,
              privateKeyPem: this.identity.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
            },
          }
        : {}),
    });
  }

  update(change: { roots?: Buffer[]; identity?: AgentIdentity }): void {
    if (change.roots) this.roots = change.roots;
    if (change.identity) this.identity = change.identity;
    this.client.close();
    this.client = this.make();
  }

  attest(params: AttestParams, answer?: (challenge: Buffer) => Promise<Buffer>): Promise<AttestResult> {
    return this.client.attest(params, answer);
  }

  renew(publicKeySpki: Buffer): Promise<X509Svid> {
    return this.client.renew({ public_key: publicKeySpki });
  }

  fetchBundle(): Promise<Bundle> {
    return this.client.fetchBundle();
  }

  fetchEntries(): Promise<Entry[]> {
    return this.client.fetchEntries();
  }

  signX509Svids(params: SvidParams[]): Promise<SvidResult[]> {
    return this.client.signX509Svids(params);
  }

  signJwtSvid(req: SignJwtSvidRequest): Promise<SignJwtSvidResponse> {
    return this.client.signJwtSvid(req);
  }

  close(): void {
    this.client.close();
  }
}

/**
 * `--insecure-bootstrap`: the server's bundle fetched over TLS WITHOUT checking who answers. Whoever
 * sits between agent and server can impersonate the server from then on. For labs only.
 */
export function fetchBundleInsecure(address: string, timeoutMs: number): Promise<Bundle> {
  const creds = grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
  const Ctor = grpc.makeGenericClientConstructor(agentServiceDefinition(), 'AgentService');
  const client = new Ctor(address, creds, AGENT_API_CHANNEL_OPTIONS) as unknown as grpc.Client & {
    FetchBundle(
      req: object,
      md: grpc.Metadata,
      o: grpc.CallOptions,
      cb: (e: grpc.ServiceError | null, r?: { bundle?: Bundle }) => void,
    ): void;
  };
  return new Promise<Bundle>((resolve, reject) => {
    client.FetchBundle({}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (err) reject(agentApiError('FetchBundle', address, err));
      else if (!res?.bundle) reject(new EvidentError('INTERNAL', 'agent API: FetchBundle returned no bundle'));
      else resolve(res.bundle);
    });
  });
}
