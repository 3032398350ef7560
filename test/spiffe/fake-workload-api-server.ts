/**
 * A TEST DOUBLE of the agent's Workload API: a real gRPC server on a real Unix socket, serving the
 * standard proto from canned state that tests change at will (rotate, deny, send garbage). The real
 * agent (next issue) replaces it; this one holds no attestation, no cache, no policy.
 */
import { rm } from 'node:fs/promises';
import {
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  type Metadata,
} from '@grpc/grpc-js';
import {
  SECURITY_HEADER,
  toStruct,
  workloadApiServiceDefinition,
  type JWTBundlesResponseMessage,
  type JWTSVIDRequestMessage,
  type JWTSVIDResponseMessage,
  type ValidateJWTSVIDRequestMessage,
  type ValidateJWTSVIDResponseMessage,
  type X509BundlesResponseMessage,
  type X509SVIDResponseMessage,
} from '../../src/spiffe/workloadapi/index.js';
import type { X509Svid } from '../../src/spiffe/x509svid/index.js';
import type { X509Bundle, JwtBundleSet } from '../../src/spiffe/bundle/index.js';
import { JwtSvid, signJwtSvid } from '../../src/spiffe/jwtsvid/index.js';
import type { SpiffeId } from '../../src/spiffe/spiffeid/index.js';
import type { KeyObject } from 'node:crypto';

/** A gRPC status the double answers with instead of data. */
export interface Refusal {
  code: status;
  details: string;
}

export interface JwtIssuer {
  ids: SpiffeId[];
  key: KeyObject;
  kid: string;
  bundles: JwtBundleSet;
}

type X509Answer = X509SVIDResponseMessage | Refusal;

function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'code' in x && 'details' in x;
}

/** The wire message for SVIDs (each with its trust domain's bundle) and federated bundles. */
export function x509Response(svids: { svid: X509Svid; bundle: X509Bundle }[], federated: X509Bundle[] = []): X509SVIDResponseMessage {
  return {
    svids: svids.map(({ svid, bundle }) => {
      const raw = svid.marshalRaw();
      return {
        spiffe_id: svid.id.toString(),
        x509_svid: raw.certificates,
        x509_svid_key: raw.privateKey,
        bundle: bundle.marshalDer(),
        hint: svid.hint,
      };
    }),
    crl: [],
    federated_bundles: Object.fromEntries(federated.map((b) => [b.trustDomain.idString(), b.marshalDer()])),
  };
}

export class FakeWorkloadApi {
  private x509: X509Answer = { code: status.PERMISSION_DENIED, details: 'no identity issued' };
  private readonly x509Streams = new Set<ServerWritableStream<object, X509SVIDResponseMessage>>();
  jwt: JwtIssuer | undefined;
  /** Every request's security header value, in order, for assertions. */
  readonly headersSeen: (string | undefined)[] = [];

  private constructor(
    readonly socketPath: string,
    private readonly server: Server,
  ) {}

  get address(): string {
    return `unix://${this.socketPath}`;
  }

  static async start(socketPath: string): Promise<FakeWorkloadApi> {
    const server = new Server();
    const api = new FakeWorkloadApi(socketPath, server);
    server.addService(workloadApiServiceDefinition(), {
      FetchX509SVID: (call: ServerWritableStream<object, X509SVIDResponseMessage>) => api.fetchX509(call),
      FetchX509Bundles: (call: ServerWritableStream<object, X509BundlesResponseMessage>) => api.fetchX509Bundles(call),
      FetchJWTSVID: (call: ServerUnaryCall<JWTSVIDRequestMessage, JWTSVIDResponseMessage>, cb: sendUnaryData<JWTSVIDResponseMessage>) =>
        void api.fetchJwt(call, cb),
      FetchJWTBundles: (call: ServerWritableStream<object, JWTBundlesResponseMessage>) => api.fetchJwtBundles(call),
      ValidateJWTSVID: (
        call: ServerUnaryCall<ValidateJWTSVIDRequestMessage, ValidateJWTSVIDResponseMessage>,
        cb: sendUnaryData<ValidateJWTSVIDResponseMessage>,
      ) => void api.validateJwt(call, cb),
    });
    await rm(socketPath, { force: true });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    return api;
  }

  /** What FetchX509SVID answers from now on; open streams receive it at once (a rotation). */
  setX509(answer: X509Answer): void {
    this.x509 = answer;
    for (const call of this.x509Streams) this.answerX509(call);
  }

  /** Ends every open FetchX509SVID stream with an OK status, as an agent shedding clients might. */
  endStreams(): void {
    for (const call of this.x509Streams) call.end();
    this.x509Streams.clear();
  }

  /** Stops abruptly, as a crashing agent would, and removes the socket. */
  async stop(): Promise<void> {
    this.server.forceShutdown();
    this.x509Streams.clear();
    await rm(this.socketPath, { force: true });
  }

  private checkHeader(md: Metadata): Refusal | undefined {
    const v = md.get(SECURITY_HEADER)[0];
    this.headersSeen.push(v === undefined ? undefined : String(v));
    return v === 'true' ? undefined : { code: status.INVALID_ARGUMENT, details: 'security header missing from request' };
  }

  private fetchX509(call: ServerWritableStream<object, X509SVIDResponseMessage>): void {
    const refused = this.checkHeader(call.metadata);
    if (refused) return void call.emit('error', refused);
    this.x509Streams.add(call);
    call.on('cancelled', () => this.x509Streams.delete(call));
    this.answerX509(call);
  }

  private answerX509(call: ServerWritableStream<object, X509SVIDResponseMessage>): void {
    if (isRefusal(this.x509)) {
      this.x509Streams.delete(call);
      call.emit('error', this.x509);
    } else {
      call.write(this.x509);
    }
  }

  private fetchX509Bundles(call: ServerWritableStream<object, X509BundlesResponseMessage>): void {
    const refused = this.checkHeader(call.metadata);
    if (refused) return void call.emit('error', refused);
    if (isRefusal(this.x509)) return void call.emit('error', this.x509);
    const bundles: Record<string, Buffer> = { ...this.x509.federated_bundles };
    for (const s of this.x509.svids) bundles[`spiffe://${s.spiffe_id.split('/')[2]}`] = s.bundle;
    call.write({ crl: [], bundles });
  }

  private async fetchJwt(
    call: ServerUnaryCall<JWTSVIDRequestMessage, JWTSVIDResponseMessage>,
    cb: sendUnaryData<JWTSVIDResponseMessage>,
  ): Promise<void> {
    const refused = this.checkHeader(call.metadata);
    if (refused) return cb(refused);
    if (call.request.audience.length === 0) return cb({ code: status.INVALID_ARGUMENT, details: 'audience must be specified' });
    if (this.jwt === undefined) return cb({ code: status.PERMISSION_DENIED, details: 'no identity issued' });
    const { key, kid } = this.jwt;
    const ids = this.jwt.ids.filter((id) => call.request.spiffe_id === '' || id.toString() === call.request.spiffe_id);
    const svids = await Promise.all(
      ids.map(async (id) => ({
        spiffe_id: id.toString(),
        svid: await signJwtSvid({ id, audience: call.request.audience, key, kid }),
        hint: '',
      })),
    );
    cb(null, { svids });
  }

  private fetchJwtBundles(call: ServerWritableStream<object, JWTBundlesResponseMessage>): void {
    const refused = this.checkHeader(call.metadata);
    if (refused) return void call.emit('error', refused);
    if (this.jwt === undefined) return void call.emit('error', { code: status.PERMISSION_DENIED, details: 'no identity issued' });
    call.write({
      bundles: Object.fromEntries(this.jwt.bundles.bundles().map((b) => [b.trustDomain.idString(), Buffer.from(b.marshal())])),
    });
  }

  private async validateJwt(
    call: ServerUnaryCall<ValidateJWTSVIDRequestMessage, ValidateJWTSVIDResponseMessage>,
    cb: sendUnaryData<ValidateJWTSVIDResponseMessage>,
  ): Promise<void> {
    const refused = this.checkHeader(call.metadata);
    if (refused) return cb(refused);
    if (call.request.audience === '') return cb({ code: status.INVALID_ARGUMENT, details: 'audience must be specified' });
    if (call.request.svid === '') return cb({ code: status.INVALID_ARGUMENT, details: 'svid must be specified' });
    if (this.jwt === undefined) return cb({ code: status.PERMISSION_DENIED, details: 'no identity issued' });
    try {
      const svid = await JwtSvid.parseAndValidate(call.request.svid, this.jwt.bundles, call.request.audience);
      cb(null, { spiffe_id: svid.id.toString(), claims: toStruct({ ...svid.claims }) });
    } catch (e) {
      cb({ code: status.INVALID_ARGUMENT, details: (e as Error).message });
    }
  }
}
