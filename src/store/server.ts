import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { EvidentError, isEvidentError } from '../errors.js';
import type { PostgresOptions } from '../sql/open-postgres.js';
import { oneLine } from '../time/server-url.js';
import { TokenList, UploaderBundle } from './auth.js';
import { digestOf, isStoreDigest } from './digest.js';
import { openEvidenceDb, type EvidenceDb } from './evidence-db.js';
import { parseEvidence, type EvidenceKind } from './evidence.js';
import { gitoidSha256 } from './gitoid.js';
import { openApiDocument } from './openapi.js';
import { encodeCursor, evidenceItem, parseSearchQuery } from './search-query.js';
import { DEFAULT_MAX_EVIDENCE_BYTES } from './limits.js';
import type { VerdictPolicy } from './web/artifact-chain.js';
import { registerPages } from './web/pages.js';
import { loadVerdictPolicy } from './web/verdict-policy.js';
import { httpsOptionsOf, readTlsFiles, secureContextOf, type StoreTls, type StoreTlsSource } from './tls-source.js';

export interface EvidenceStoreOptions {
  /** Where the default SQLite database lives (`evidence.sqlite3`). */
  readonly dataDir?: string;
  /** `sqlite` (default), `sqlite:PATH` or a `postgres://` URL several instances may share. */
  readonly datastore?: string;
  /** PostgreSQL pool and schema (tests use a schema per run). */
  readonly postgres?: PostgresOptions;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port (the URL returned says which). */
  readonly port?: number;
  /** Bearer tokens that may write (and read, with readsNeedToken), one per line. */
  readonly tokenFile?: string;
  /** CAs (PEM) whose X509-SVIDs may write over mTLS; needs tlsCert and tlsKey. */
  readonly trustBundle?: string;
  /** Serve HTTPS with this certificate chain (PEM) and key (PEM). */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /**
   * Serve HTTPS with what this source gives, taking each new one for new connections (workload-tls.ts:
   * the workload's X509-SVID, renewed on every rotation; client X509-SVIDs chaining to the Workload API's
   * bundles may write). Not with tlsCert/tlsKey or trustBundle. The store owns it: closed with the store.
   */
  readonly tlsSource?: StoreTlsSource;
  /** Reads need a token or an SVID too; by default they are open. */
  readonly readsNeedToken?: boolean;
  /** The layout whose verdict the artifact pages show (docs/store.md, "Pages"), with its owners' keys. */
  readonly layout?: string;
  readonly layoutKeys?: readonly string[];
  readonly limits?: { readonly maxEvidenceBytes?: number };
  /** Told about each stored upload and each server error, one line (the CLI logs them). */
  readonly log?: (line: string) => void;
}

export interface RunningEvidenceStore {
  /** `http://HOST:PORT` or `https://HOST:PORT`. */
  readonly url: string;
  close(): Promise<void>;
}

/** An answer other than 2xx, with its status; its message is the one line of `{"error": …}`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the evidence store (docs/store.md): an HTTP(S) service over an SQLite file or a PostgreSQL
 * database that holds in-toto links, layouts and DSSE envelopes as the exact bytes received, finds them
 * by artifact digest, step, signer and time, and speaks Archivista's upload/download.
 *
 * @throws EvidentError BAD_USAGE for a configuration that cannot work; ENVIRONMENT when the database or
 *   the address cannot be opened, or the tlsSource gives nothing to serve
 */
export async function startEvidenceStore(options: EvidenceStoreOptions): Promise<RunningEvidenceStore> {
  const source = options.tlsSource;
  try {
    return await start(options, source);
  } catch (e) {
    source?.close();
    throw e;
  }
}

async function start(options: EvidenceStoreOptions, source: StoreTlsSource | undefined): Promise<RunningEvidenceStore> {
  const files = options.tlsCert !== undefined || options.tlsKey !== undefined;
  if (files && source !== undefined) {
    throw new EvidentError(
      'BAD_USAGE',
      "store: serve HTTPS with --spiffe-socket (the Workload API's X509-SVID) or with --tls-cert/--tls-key (files), not both",
    );
  }
  if (files && (options.tlsCert === undefined || options.tlsKey === undefined)) {
    throw new EvidentError('BAD_USAGE', 'store: --tls-cert and --tls-key go together');
  }
  if (options.trustBundle !== undefined && source !== undefined) {
    throw new EvidentError(
      'BAD_USAGE',
      "store: --trust-bundle is for --tls-cert/--tls-key: with --spiffe-socket, client X509-SVIDs are judged by the Workload API's bundles (federate to trust another domain)",
    );
  }
  if (options.trustBundle !== undefined && !files) {
    throw new EvidentError('BAD_USAGE', 'store: --trust-bundle (client X509-SVIDs) needs HTTPS: give --tls-cert and --tls-key');
  }
  if (options.tokenFile === undefined && options.trustBundle === undefined && source === undefined) {
    throw new EvidentError(
      'BAD_USAGE',
      'store: nobody could upload: give --token-file FILE or --trust-bundle FILE (writes are authenticated), or --spiffe-socket',
    );
  }
  const tokens = options.tokenFile === undefined ? undefined : await TokenList.load(options.tokenFile);
  const bundle = options.trustBundle === undefined ? undefined : await UploaderBundle.load(options.trustBundle);
  const policy = await loadVerdictPolicy(options.layout, options.layoutKeys ?? []);
  const fixed = files ? await readTlsFiles(options.tlsCert!, options.tlsKey!, bundle) : undefined;
  const db = await openEvidenceDb(options.datastore, options.dataDir, options.postgres);
  let tls: StoreTls | undefined;
  try {
    // after the database: a store that cannot open it says so at once, not after waiting for an SVID
    tls = fixed ?? (await source?.first());
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  const maxEvidenceBytes = options.limits?.maxEvidenceBytes ?? DEFAULT_MAX_EVIDENCE_BYTES;
  const app = (
    tls === undefined ? Fastify({ bodyLimit: maxEvidenceBytes }) : Fastify({ https: httpsOptionsOf(tls), bodyLimit: maxEvidenceBytes })
  ) as FastifyInstance;
  // a rotated SVID (and bundle) serves every new connection; those open finish with the one they began with
  source?.onChange((next) => {
    tls = next;
    (app.server as unknown as TlsServer).setSecureContext(secureContextOf(next));
  });
  const access = {
    tokens,
    // the uploaders of the moment: a client SVID is judged by the bundles the Workload API gives now
    get bundle() {
      return tls?.uploaders;
    },
    readsNeedToken: options.readsNeedToken === true,
    maxEvidenceBytes,
    log: options.log,
  };
  routes(app, db, access, policy);
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (e) {
    await db.close().catch(() => undefined);
    throw new EvidentError('ENVIRONMENT', `store: cannot listen on ${host}:${options.port ?? 0}: ${(e as Error).message}`, { cause: e });
  }
  const { port } = app.server.address() as AddressInfo;
  const url = `${tls !== undefined ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    async close() {
      source?.close();
      await app.close();
      await db.close();
    },
  };
}

interface Access {
  readonly tokens: TokenList | undefined;
  readonly bundle: UploaderBundle | undefined;
  readonly readsNeedToken: boolean;
  readonly maxEvidenceBytes: number;
  readonly log: ((line: string) => void) | undefined;
}

/** A JSON body, kept as the exact bytes received: `application/json` or any `application/…+json`. */
const JSON_TYPE = /^application\/([a-z0-9.-]+\+)?json\s*(;|$)/i;

function routes(app: FastifyInstance, db: EvidenceDb, access: Access, policy: VerdictPolicy | undefined): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  /** Who is calling: the SPIFFE ID of a trusted client SVID, else the name of a valid token; throws 401/403. */
  const caller = (req: FastifyRequest, what: string): string => {
    const svid = access.bundle?.callerOf(req.raw.socket as TLSSocket);
    if (svid !== undefined) return svid;
    const header = req.headers.authorization;
    const presented = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (presented === undefined) {
      throw new HttpError(401, `${what} need a bearer token (Authorization: Bearer …) or a client X509-SVID the store trusts`);
    }
    const name = access.tokens?.match(presented);
    if (name === undefined) throw new HttpError(403, 'the bearer token is not one this store accepts');
    return name;
  };
  const reader = (req: FastifyRequest) => {
    if (access.readsNeedToken) caller(req, 'reads');
  };

  const ingest = async (req: FastifyRequest, only?: EvidenceKind) => {
    const uploader = caller(req, 'uploads');
    const body = req.body;
    if (!Buffer.isBuffer(body)) throw new HttpError(415, 'the body must be JSON evidence (Content-Type: application/json)');
    if (body.length === 0) throw new HttpError(400, 'not evidence: the body is empty');
    const facts = parseEvidence(body);
    if (only !== undefined && facts.kind !== only)
      throw new HttpError(400, `not a DSSE envelope (this is a ${facts.kind}): /upload takes DSSE envelopes`);
    const digest = digestOf(body);
    const gitoid = gitoidSha256(body);
    const created = await db.put({ digest, gitoid, body, facts, uploader, storedAt: Date.now() });
    if (created) access.log?.(`stored ${digest} (${facts.kind}${facts.step !== undefined ? ` ${facts.step}` : ''}) from ${uploader}`);
    return { digest, kind: facts.kind, created, gitoid };
  };

  const sendEvidence = (reply: FastifyReply, bytes: Buffer | undefined, what: string) => {
    if (bytes === undefined) throw new HttpError(404, `no evidence ${what} in this store`);
    return reply.type('application/json').send(bytes);
  };

  app.post('/v1/evidence', async (req, reply) => {
    const { digest, kind, created } = await ingest(req);
    return reply.code(created ? 201 : 200).send({ digest, kind, created });
  });

  app.get('/v1/evidence/:digest', async (req, reply) => {
    reader(req);
    const { digest } = req.params as { digest: string };
    if (!isStoreDigest(digest))
      throw new HttpError(400, `a content digest is sha256: and 64 lowercase hex digits, not '${digest.slice(0, 80)}'`);
    return sendEvidence(reply, await db.get(digest), digest);
  });

  app.get('/v1/evidence', async (req) => {
    reader(req);
    const query = parseSearchQuery(req.query as Record<string, unknown>);
    const found = await db.search(query);
    const page = found.slice(0, query.limit);
    const items = page.map(evidenceItem);
    return found.length > query.limit ? { items, next: encodeCursor(page[page.length - 1]!) } : { items };
  });

  // Archivista's API (in-toto/archivista pkg/server/server.go): both its paths, 200 with the gitoid
  for (const path of ['/upload', '/v1/upload']) {
    app.post(path, async (_req, reply) => reply.code(200).send({ gitoid: (await ingest(_req, 'dsse')).gitoid }));
  }
  for (const path of ['/download/:gitoid', '/v1/download/:gitoid']) {
    app.get(path, async (req, reply) => {
      reader(req);
      const { gitoid } = req.params as { gitoid: string };
      if (!/^[0-9a-f]{64}$/.test(gitoid)) throw new HttpError(404, `no evidence with gitoid '${gitoid.slice(0, 80)}' in this store`);
      return sendEvidence(reply, await db.getByGitoid(gitoid), `with gitoid ${gitoid}`);
    });
  }

  registerPages(app, { db, ...(policy !== undefined ? { policy } : {}), checkRead: reader });

  const openapi = openApiDocument();
  app.get('/openapi.json', async () => openapi);
  app.get('/healthz', async () => {
    try {
      await db.search({ limit: 1 });
    } catch (e) {
      throw new HttpError(503, `the database does not answer: ${(e as Error).message}`);
    }
    return { status: 'ok' };
  });

  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no such route: ${req.method} ${req.url.split('?')[0]}` }));
  app.setErrorHandler((e: FastifyError, _req, reply) => {
    const [status, message] = describe(e, access.maxEvidenceBytes);
    if (status >= 500) access.log?.(`error: ${oneLine(e.stack ?? e.message)}`);
    if (status === 401) reply.header('www-authenticate', 'Bearer');
    return reply.code(status).send({ error: oneLine(message) });
  });
}

/** The status and one line an error answers with. */
function describe(e: FastifyError, maxBytes: number): [number, string] {
  if (e instanceof HttpError) return [e.status, e.message];
  if (isEvidentError(e)) return e.code === 'BAD_INPUT' ? [400, e.message] : [500, 'internal error'];
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, `evidence larger than this store's limit of ${maxBytes} bytes`];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [415, 'the body must be JSON evidence (Content-Type: application/json)'];
  }
  const status = e.statusCode ?? 500;
  return status < 500 ? [status, e.message] : [500, 'internal error'];
}
