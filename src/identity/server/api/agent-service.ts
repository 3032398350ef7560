import { createPublicKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CaManager } from '../ca/index.js';
import type { Clock } from '../../../util/clock.js';
import type { AttestedAgent, Datastore, RegistrationEntry } from '../datastore/index.js';
import { entriesForAgent } from '../entries/index.js';
import type { AgentSyncs } from '../entries/propagation.js';
import { AttestationError, type NodeAttestorRegistry } from '../nodeattest/index.js';
import { agentSpiffeId } from '../spiffe-id.js';
import type {
  AttestAgentRequest,
  AttestAgentResponse,
  Bundle,
  Entry,
  FetchBundleResponse,
  FetchEntriesResponse,
  RenewAgentRequest,
  RenewAgentResponse,
  SignJwtSvidRequest,
  SignJwtSvidResponse,
  SignX509SvidsRequest,
  SignX509SvidsResponse,
  SvidResult,
  X509Svid,
} from '../../proto/index.js';
import type { IssuedX509Svid } from '../ca/index.js';
import { spkiFromKeyRequest } from './key-request.js';
import { PeerAuthenticator } from './peer.js';
import { rpcError, toRpcError } from './rpc-error.js';

export interface AgentServiceDeps {
  trustDomain: string;
  ds: Datastore;
  ca: CaManager;
  clock: Clock;
  attestors: NodeAttestorRegistry;
  log: Logger;
  /** Told when an agent fetches its entries (`entry create --wait` asks it). */
  syncs?: AgentSyncs;
}

/** Most SVIDs one SignX509Svids call may ask for. */
export const MAX_BATCH = 1000;
/** How long an agent has to answer an attestation challenge. */
const CHALLENGE_TIMEOUT_MS = 30_000;

function svidToProto(s: IssuedX509Svid): X509Svid {
  return { spiffe_id: s.spiffeId.toString(), cert_chain: s.chain, expires_at: Math.floor(s.notAfter / 1000) };
}

function entryToProto(e: RegistrationEntry): Entry {
  return {
    id: e.id,
    spiffe_id: e.spiffeId,
    parent_id: e.parentId,
    selectors: e.selectors,
    x509_svid_ttl: e.x509SvidTtl,
    jwt_svid_ttl: e.jwtSvidTtl,
    dns_names: e.dnsNames,
    hint: e.hint,
    admin: e.admin,
    revision: e.revision,
  };
}

export function bundleToProto(ca: CaManager): Bundle {
  const b = ca.bundle();
  return {
    trust_domain: b.trustDomain,
    x509_authorities: b.x509Authorities,
    jwt_authorities: b.jwtAuthorities.map((a) => ({
      kid: a.kid,
      public_key: createPublicKey({ key: a.jwk as never, format: 'jwk' }).export({ format: 'der', type: 'spki' }),
      expires_at: Math.floor(a.expiresAt / 1000),
    })),
    sequence: b.sequence,
    refresh_hint: b.refreshHint,
  };
}

type UnaryHandler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

/** The handlers of AgentService (agent.proto), bound to the server's datastore, CA and attestors. */
export function agentServiceHandlers(d: AgentServiceDeps): grpc.UntypedServiceImplementation {
  const peers = new PeerAuthenticator(d.ca, d.ds, d.clock, d.trustDomain);

  const unary =
    <Req, Res>(name: string, fn: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): UnaryHandler<Req, Res> =>
    (call, cb) => {
      fn(call).then(
        (res) => cb(null, res),
        (e: unknown) => {
          const err = toRpcError(e);
          if (err.code === grpc.status.INTERNAL) d.log.error({ err: e, rpc: name }, 'agent API call failed');
          else d.log.info({ rpc: name, code: grpc.status[err.code], details: err.details }, 'agent API call refused');
          cb(err);
        },
      );
    };

  async function issueAgentSvid(agentId: string, req: RenewAgentRequest['key']): Promise<IssuedX509Svid> {
    return d.ca.signX509Svid(agentId, await spkiFromKeyRequest(req));
  }

  async function authorizedEntries(agent: AttestedAgent): Promise<Map<string, RegistrationEntry>> {
    return new Map((await entriesForAgent(d.ds, d.trustDomain, agent)).map((e) => [e.id, e]));
  }

  return {
    AttestAgent: (call: grpc.ServerDuplexStream<AttestAgentRequest, AttestAgentResponse>) => {
      attest(call).catch((e: unknown) => {
        const err = toRpcError(e instanceof AttestationError ? rpcError(grpc.status.PERMISSION_DENIED, e.message) : e);
        d.log.info({ rpc: 'AttestAgent', code: grpc.status[err.code], details: err.details }, 'attestation refused');
        call.emit('error', err);
      });
    },

    RenewAgent: unary<RenewAgentRequest, RenewAgentResponse>('RenewAgent', async (call) => {
      const agent = await peers.authenticate(call);
      const svid = await issueAgentSvid(agent.spiffeId, call.request.key);
      // the current SVID stays valid until the agent is seen with this one (PeerAuthenticator)
      await d.ds.agents.update({ ...agent, newCertSerial: svid.serial, newCertNotAfter: svid.notAfter, updatedAt: d.clock.now() });
      d.log.info({ agent: agent.spiffeId }, 'agent SVID renewed');
      return { svid: svidToProto(svid) };
    }),

    FetchEntries: unary<Record<string, never>, FetchEntriesResponse>('FetchEntries', async (call) => {
      const agent = await peers.authenticate(call);
      d.syncs?.fetching(agent.spiffeId, d.clock.now());
      return { entries: [...(await authorizedEntries(agent)).values()].map(entryToProto) };
    }),

    SignX509Svids: unary<SignX509SvidsRequest, SignX509SvidsResponse>('SignX509Svids', async (call) => {
      const agent = await peers.authenticate(call);
      const params = call.request.params ?? [];
      if (params.length > MAX_BATCH) throw rpcError(grpc.status.INVALID_ARGUMENT, `at most ${MAX_BATCH} SVIDs per call`);
      const allowed = await authorizedEntries(agent);
      const results = await Promise.all(
        params.map(async (p): Promise<SvidResult> => {
          const entry = allowed.get(p.entry_id);
          if (!entry) return { entry_id: p.entry_id, error: `entry ${p.entry_id} does not exist or is not one this agent may serve` };
          try {
            const svid = await d.ca.signX509Svid(entry.spiffeId, await spkiFromKeyRequest(p.key), entry.x509SvidTtl, entry.dnsNames);
            return { entry_id: p.entry_id, svid: svidToProto(svid), error: '' };
          } catch (e) {
            return { entry_id: p.entry_id, error: (e as Error).message };
          }
        }),
      );
      return { results };
    }),

    SignJwtSvid: unary<SignJwtSvidRequest, SignJwtSvidResponse>('SignJwtSvid', async (call) => {
      const agent = await peers.authenticate(call);
      const entry = (await authorizedEntries(agent)).get(call.request.entry_id);
      if (!entry)
        throw rpcError(grpc.status.PERMISSION_DENIED, `entry ${call.request.entry_id} does not exist or is not one this agent may serve`);
      const audience = (call.request.audience ?? []).filter((a) => a !== '');
      if (audience.length === 0) throw rpcError(grpc.status.INVALID_ARGUMENT, 'audience is required');
      const jwt = await d.ca.signJwtSvid(entry.spiffeId, audience, entry.jwtSvidTtl);
      return { spiffe_id: entry.spiffeId, token: jwt.token, expires_at: Math.floor(jwt.expiresAt / 1000) };
    }),

    FetchBundle: unary<Record<string, never>, FetchBundleResponse>('FetchBundle', async () => ({ bundle: bundleToProto(d.ca) })),
  };

  async function attest(call: grpc.ServerDuplexStream<AttestAgentRequest, AttestAgentResponse>): Promise<void> {
    const inbox = messageQueue(call);
    const first = await inbox.next(CHALLENGE_TIMEOUT_MS);
    const params = first?.params;
    if (!params) throw rpcError(grpc.status.INVALID_ARGUMENT, 'the first message must carry params');
    const attestor = d.attestors.get(params.type);
    if (!attestor)
      throw rpcError(
        grpc.status.INVALID_ARGUMENT,
        `unknown attestor '${params.type}' (this server has: ${d.attestors.types().join(', ')})`,
      );
    const spki = await spkiFromKeyRequest(params.key); // checked before the attestor spends a join token
    const result = await attestor.attest(params.payload ?? Buffer.alloc(0), {
      challenge: async (data) => {
        call.write({ challenge: data });
        const answer = await inbox.next(CHALLENGE_TIMEOUT_MS);
        if (!answer?.challenge_response) throw new AttestationError('no answer to the challenge');
        return answer.challenge_response;
      },
    });
    const id = agentSpiffeId(d.trustDomain, attestor.type, result.agentIdSuffix);
    const agentId = id.toString(); // the datastore's key
    const existing = await d.ds.agents.fetch(agentId);
    if (existing && !existing.canReattest) throw new AttestationError(`agent ${agentId} is already attested and may not attest again`);
    const svid = await d.ca.signX509Svid(id, spki);
    const now = d.clock.now();
    const record: AttestedAgent = {
      spiffeId: agentId,
      attestationType: attestor.type,
      selectors: result.selectors,
      certSerial: svid.serial,
      certNotAfter: svid.notAfter,
      newCertSerial: '',
      newCertNotAfter: 0,
      canReattest: result.canReattest,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (existing) await d.ds.agents.update(record);
    else await d.ds.agents.create(record);
    d.log.info({ agent: agentId, attestor: attestor.type }, 'agent attested');
    call.write({ result: { svid: svidToProto(svid), bundle: bundleToProto(d.ca) } });
    call.end();
  }
}

/** Reads a duplex stream's messages one at a time, with a deadline for each. */
function messageQueue<T>(call: grpc.ServerDuplexStream<T, unknown>): { next(timeoutMs: number): Promise<T | undefined> } {
  const buffered: T[] = [];
  const waiting: ((m: T | undefined) => void)[] = [];
  let ended = false;
  call.on('data', (m: T) => {
    const w = waiting.shift();
    if (w) w(m);
    else buffered.push(m);
  });
  const finish = () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  };
  call.on('end', finish);
  call.on('cancelled', finish);
  call.on('error', finish);
  return {
    next(timeoutMs) {
      if (buffered.length > 0) return Promise.resolve(buffered.shift());
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(rpcError(grpc.status.DEADLINE_EXCEEDED, 'the agent did not answer in time')), timeoutMs);
        waiting.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
      });
    },
  };
}
