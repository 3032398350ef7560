import { randomUUID } from 'node:crypto';
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createConnection } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { EvidentError, isEvidentError } from '../../../errors.js';
import { bundleToPem, bundleToSpiffeJson, type CaManager, type RootInfo } from '../ca/index.js';
import type { Clock } from '../../../util/clock.js';
import { checkSocketFolder } from '../../../util/socket-folder.js';
import type { Datastore, RegistrationEntry } from '../datastore/index.js';
import { EntryValidationError, entryToJson, validateEntry, type EntryInput, type SelectorKinds } from '../entries/index.js';
import { agentsAliasedBy, AgentSyncs, entryReach, reachComplete } from '../entries/propagation.js';
import { AGENT_SYNC_INTERVAL_MS } from '../../common/sync.js';
import { MAX_JOIN_TOKEN_TTL_SECONDS } from '../nodeattest/join-token.js';
import { agentSpiffeId, serverSpiffeId } from '../spiffe-id.js';
import { JOIN_TOKEN_TYPE } from '../../common/index.js';

export interface AdminDeps {
  trustDomain: string;
  ds: Datastore;
  ca: CaManager;
  clock: Clock;
  log: Logger;
  /** The selectors entries may require (default: those of every known attestor). */
  selectorKinds?: SelectorKinds;
  /** When agents last fetched their entries from this server (`entry create --wait`); none known when absent. */
  syncs?: AgentSyncs;
}

/** The longest `GET /v1/entries/ID/reach?wait=SECONDS` waits. */
const MAX_REACH_WAIT_SECONDS = 300;
/** An agent that has not fetched from this server for this long is down or syncs with another server. */
const ACTIVE_MS = 6 * AGENT_SYNC_INTERVAL_MS;

/** Largest request body the admin API reads. */
const MAX_BODY = 1 << 20;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * The admin API: HTTP/JSON on a Unix socket (mode 0600, so only the server's user can use it).
 * HTTP/JSON rather than gRPC because its one client is our CLI, an operator can drive it with
 * `curl --unix-socket`, and it needs no generated stubs; the network-facing agent API is the gRPC one.
 */
export async function startAdminServer(socketPath: string, d: AdminDeps): Promise<Server> {
  // The default folder is under /tmp: made 0700 here, and refused when another user could swap the socket.
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
    throw new EvidentError('ENVIRONMENT', `cannot listen on the admin socket: ${e.code ?? e.message}`, { file: socketPath, cause: e });
  });
  await checkSocketFolder(dirname(socketPath));
  await removeStaleSocket(socketPath);
  const server = createServer((req, res) => {
    route(req, d).then(
      ({ status, body }) => send(res, status, body),
      (e: unknown) => {
        if (e instanceof HttpError) return send(res, e.status, { error: { message: e.message, ...e.extra } });
        if (e instanceof EntryValidationError) return send(res, 400, { error: { code: e.code, message: e.message, problems: e.problems } });
        if (isEvidentError(e))
          return send(res, e.code === 'NOT_FOUND' ? 404 : e.code === 'INTERNAL' ? 500 : 400, {
            error: { code: e.code, message: e.message },
          });
        d.log.error({ err: e }, 'admin API request failed');
        return send(res, 500, { error: { message: 'internal error' } });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: Error) =>
      reject(new EvidentError('ENVIRONMENT', `cannot listen on the admin socket: ${e.message}`, { file: socketPath, cause: e })),
    );
    // The socket is born 0600 (umask while bind() runs; listen binds synchronously): a chmod after
    // listening would leave a moment in which any local user could connect.
    const umask = process.umask(0o177);
    try {
      server.listen(socketPath, () => resolve());
    } finally {
      process.umask(umask);
    }
  });
  await chmod(socketPath, 0o600);
  return server;
}

/** A socket file left by a server that died is removed; one a live server answers on is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
  if (alive) throw new EvidentError('ENVIRONMENT', 'another server is already listening on this admin socket', { file: path });
  await unlink(path).catch(() => undefined);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new HttpError(400, `request body is not a JSON object: ${(e as Error).message}`);
  }
}

async function route(req: IncomingMessage, d: AdminDeps): Promise<{ status: number; body: unknown }> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const parts = url.pathname.split('/').filter(Boolean);
  const m = req.method ?? 'GET';
  const key = `${m} /${parts.slice(0, 2).join('/')}${parts.length > 2 ? '/:id' : ''}${parts.length > 3 ? `/${parts.slice(3).join('/')}` : ''}`;
  const id = parts[2] === undefined ? '' : decodeURIComponent(parts[2]);
  switch (key) {
    case 'GET /v1/health':
      return {
        status: 200,
        body: { status: 'ok', trust_domain: d.trustDomain, entries: await d.ds.entries.count(), agents: await d.ds.agents.count() },
      };
    case 'GET /v1/entries': {
      const filter = {
        ...(url.searchParams.get('parent_id') ? { parentId: url.searchParams.get('parent_id')! } : {}),
        ...(url.searchParams.get('spiffe_id') ? { spiffeId: url.searchParams.get('spiffe_id')! } : {}),
      };
      return { status: 200, body: { entries: (await d.ds.entries.list(filter)).map(entryToJson) } };
    }
    case 'POST /v1/entries': {
      const entry = await validateEntry(
        (await readJson(req)) as EntryInput,
        d.trustDomain,
        d.ds,
        d.clock.now(),
        undefined,
        d.selectorKinds,
      );
      const created = await d.ds.entries.create(entry);
      d.log.info({ entry: created.id, spiffe_id: created.spiffeId }, 'entry created');
      return { status: 201, body: entryToJson(created) };
    }
    case 'GET /v1/entries/:id':
      return { status: 200, body: entryToJson(await mustEntry(d, id)) };
    case 'PATCH /v1/entries/:id': {
      const entry = await validateEntry(
        (await readJson(req)) as EntryInput,
        d.trustDomain,
        d.ds,
        d.clock.now(),
        await mustEntry(d, id),
        d.selectorKinds,
      );
      const updated = await d.ds.entries.update(entry);
      if (!updated) throw new HttpError(404, `no entry ${id}`);
      d.log.info({ entry: id }, 'entry updated');
      return { status: 200, body: entryToJson(updated) };
    }
    case 'GET /v1/entries/:id/reach':
      return { status: 200, body: await reach(d, await mustEntry(d, id), url.searchParams.get('wait')) };
    case 'DELETE /v1/entries/:id':
      if (!(await d.ds.entries.delete(id))) throw new HttpError(404, `no entry ${id}`);
      d.log.info({ entry: id }, 'entry deleted');
      return { status: 200, body: { deleted: id } };
    case 'POST /v1/join-tokens':
      return { status: 201, body: await createJoinToken(d, await readJson(req)) };
    case 'GET /v1/bundle': {
      const format = url.searchParams.get('format') ?? 'pem';
      if (format === 'pem') return { status: 200, body: bundleToPem(d.ca.bundle()) };
      if (format === 'spiffe') return { status: 200, body: bundleToSpiffeJson(d.ca.bundle()) };
      throw new HttpError(400, `unknown bundle format '${format}' (pem or spiffe)`);
    }
    case 'GET /v1/roots':
      return { status: 200, body: { roots: d.ca.rootInfo().map(rootToJson), keys: d.ca.keys().map(keyToJson) } };
    case 'POST /v1/roots': {
      const root = await d.ca.prepareRoot();
      d.log.info({ root: root.id, fingerprint: root.fingerprint }, 'root prepared');
      return { status: 201, body: rootToJson(root) };
    }
    case 'PATCH /v1/roots/:id': {
      const body = await readJson(req);
      if (body.status !== 'active') throw new HttpError(400, 'a root can only be made active: {"status": "active"}');
      const root = await d.ca.activateRoot(id);
      d.log.warn({ root: root.id, fingerprint: root.fingerprint }, 'root activated: new signing CAs are signed by it');
      return { status: 200, body: rootToJson(root) };
    }
    case 'DELETE /v1/roots/:id':
      await d.ca.retireRoot(id);
      d.log.warn({ root: id }, 'root retired: it is no longer in the trust bundle');
      return { status: 200, body: { retired: id } };
    case 'GET /v1/agents':
      return {
        status: 200,
        body: {
          agents: (await d.ds.agents.list()).map((a) => ({
            spiffe_id: a.spiffeId,
            attestation_type: a.attestationType,
            selectors: a.selectors.map((s) => `${s.type}:${s.value}`),
            serial: a.certSerial,
            expires_at: new Date(a.certNotAfter).toISOString(),
            can_reattest: a.canReattest,
          })),
        },
      };
    case 'DELETE /v1/agents': {
      const agentId = url.searchParams.get('id') ?? '';
      if (!(await d.ds.agents.delete(agentId))) throw new HttpError(404, `no attested agent '${agentId}'`);
      d.log.info({ agent: agentId }, 'agent evicted');
      return { status: 200, body: { evicted: agentId } };
    }
    default:
      throw new HttpError(404, `no such admin API route: ${m} ${url.pathname}`);
  }
}

function rootToJson(r: RootInfo): Record<string, unknown> {
  return {
    id: r.id,
    status: r.status,
    subject: r.subject,
    sha256: r.fingerprint,
    not_before: new Date(r.notBefore).toISOString(),
    not_after: new Date(r.notAfter).toISOString(),
  };
}

function keyToJson(k: ReturnType<CaManager['keys']>[number]): Record<string, unknown> {
  return {
    id: k.id,
    kind: k.kind,
    status: k.status,
    not_before: new Date(k.notBefore).toISOString(),
    not_after: new Date(k.notAfter).toISOString(),
  };
}

/**
 * Which agents may serve an entry and which have fetched their entries since: at once, counted from the
 * entry's creation; or, with `wait`, counted from now and answered when every agent syncing with this
 * server has it (reachComplete), when one sync interval has passed for agents that sync with another
 * server (`assumed`), or after `wait` seconds.
 */
async function reach(d: AdminDeps, entry: RegistrationEntry, wait: string | null): Promise<Record<string, unknown>> {
  const seconds = wait === null ? 0 : Number(wait);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_REACH_WAIT_SECONDS)
    throw new HttpError(400, `wait must be a number of seconds from 0 to ${MAX_REACH_WAIT_SECONDS}`);
  if (entry.parentId === serverSpiffeId(d.trustDomain)) {
    // a node entry is not served: it names agents, at once, for the entries parented to its ID
    const aliased = await agentsAliasedBy(d.ds, entry, d.clock.now());
    return {
      entry: entry.id,
      parent_id: entry.parentId,
      node_entry: true,
      complete: true,
      agents: aliased.map((a) => ({ spiffe_id: a.spiffeId })),
    };
  }
  const syncs = d.syncs ?? new AgentSyncs();
  const since = wait === null ? entry.createdAt : d.clock.now();
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const agents = await entryReach(d.ds, d.trustDomain, entry, syncs, { since, now: d.clock.now(), activeMs: ACTIVE_MS });
    // Agents that sync with another server sharing the datastore are out of this one's sight: for them,
    // one sync interval (and a second for the round itself) is when they have it.
    const unseen = wait !== null && agents.length > 0 && !agents.some((a) => a.active);
    const assumed = unseen && d.clock.now() >= since + AGENT_SYNC_INTERVAL_MS + 1000;
    const complete = reachComplete(agents) || assumed;
    if (complete || Date.now() >= deadline)
      return {
        entry: entry.id,
        parent_id: entry.parentId,
        since: new Date(since).toISOString(),
        complete,
        ...(assumed ? { assumed: true } : {}),
        sync_interval_seconds: AGENT_SYNC_INTERVAL_MS / 1000,
        agents: agents.map((a) => ({
          spiffe_id: a.spiffeId,
          reached: a.reached,
          active: a.active,
          last_fetch: a.lastFetch === undefined ? null : new Date(a.lastFetch).toISOString(),
        })),
      };
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function mustEntry(d: AdminDeps, id: string) {
  const e = await d.ds.entries.fetch(id);
  if (!e) throw new HttpError(404, `no entry ${id}`);
  return e;
}

/**
 * A single-use join token. With `spiffe_id`, also an entry making that ID an alias of the agent the
 * token will attest (parented to the server, selected by the agent's own ID), as SPIRE does.
 */
async function createJoinToken(d: AdminDeps, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ttl = body.ttl ?? 600;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_JOIN_TOKEN_TTL_SECONDS) {
    throw new HttpError(400, `ttl must be a whole number of seconds from 1 to ${MAX_JOIN_TOKEN_TTL_SECONDS} (one year)`);
  }
  const token = randomUUID();
  const now = d.clock.now();
  let entryId: string | undefined;
  if (body.spiffe_id !== undefined) {
    const agentId = agentSpiffeId(d.trustDomain, JOIN_TOKEN_TYPE, token).toString();
    const entry = await validateEntry(
      { spiffe_id: body.spiffe_id, parent_id: serverSpiffeId(d.trustDomain), selectors: [`spiffe_id:${agentId}`] },
      d.trustDomain,
      d.ds,
      now,
    );
    entryId = (await d.ds.entries.create(entry)).id;
  }
  await d.ds.joinTokens.create({ token, expiresAt: now + ttl * 1000, usedAt: null });
  d.log.info({ expires_at: new Date(now + ttl * 1000).toISOString() }, 'join token generated'); // never log the token
  return {
    token,
    expires_at: new Date(now + ttl * 1000).toISOString(),
    ...(entryId ? { spiffe_id: body.spiffe_id, entry_id: entryId } : {}),
  };
}
