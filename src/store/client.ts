import type { IncomingHttpHeaders } from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { EvidentError, type EvidentErrorCode } from '../errors.js';
import { DEFAULT_MAX_LINK_BYTES } from '../intoto/verify/limits.js';
import { oneLine } from '../time/server-url.js';
import { digestOf, isStoreDigest, type StoreDigest } from './digest.js';
import type { ArtifactRole, EvidenceKind } from './evidence.js';

/** How a client proves it may write, and how it knows the store is the store. */
export interface StoreClientOptions {
  /** The store's base URL (http or https); the API is under `v1/` of it. */
  readonly url: string;
  /** Sent as `Authorization: Bearer TOKEN` on every request (writes need it, reads may). */
  readonly token?: string;
  /**
   * mTLS (https only): the client's certificate chain and key (its X509-SVID), and the CAs the store's
   * certificate must chain to (the SPIFFE bundle), with a check of the store's certificate in place of
   * the host name check (an X509-SVID names a SPIFFE ID, not a host).
   */
  readonly tls?: SecureContextOptions & { checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined };
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
  /** Evidence larger than this is refused when fetched (default 256 MiB, verify's limit for link files). */
  readonly maxEvidenceBytes?: number;
}

export type { EvidenceKind };

export interface PushResult {
  readonly digest: StoreDigest;
  readonly kind: EvidenceKind;
  /** False when the store already held these bytes (an upload is idempotent). */
  readonly created: boolean;
}

/** The search parameters of `GET /v1/evidence` (all optional but the digest, and narrowing). */
export interface EvidenceQuery {
  readonly digest?: StoreDigest;
  readonly role?: ArtifactRole;
  readonly step?: string;
  readonly signer?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/** One piece of evidence a search found, as the store describes it. */
export interface EvidenceItem {
  readonly digest: StoreDigest;
  readonly kind: EvidenceKind;
  readonly step?: string;
  readonly predicateType?: string;
  readonly signers: readonly { readonly keyid: string; readonly spiffeId?: string }[];
  readonly storedAt: string;
  /** How many time-stamp tokens its signatures carry. */
  readonly timestamps: number;
}

export interface EvidencePage {
  readonly items: readonly EvidenceItem[];
  /** The cursor of the next page; absent on the last. */
  readonly next?: string;
}

/** JSON answers (an item list, an upload receipt) are small; anything this big is not one. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * A client of the evidence store's HTTP API (docs/store.md): upload exact bytes, fetch them back by
 * digest, search. Every error is one line naming the store: ENVIRONMENT (exit 3) when it cannot be
 * reached, answers 5xx, or refuses the credentials (401/403); BAD_INPUT for evidence it refuses (400,
 * 413, 415); NOT_FOUND for a digest it does not hold.
 *
 * @example
 * const store = new StoreClient({ url: 'http://127.0.0.1:8080', token });
 * const { digest } = await store.push(await readFile('build.0123abcd.link'));
 */
export class StoreClient {
  readonly base: URL;
  private readonly timeoutMs: number;
  private readonly maxEvidenceBytes: number;

  constructor(private readonly options: StoreClientOptions) {
    this.base = storeUrl(options.url);
    if (options.tls !== undefined && this.base.protocol !== 'https:') {
      throw new EvidentError('BAD_USAGE', `store ${this.shown}: mTLS (an X509-SVID) needs an https:// store URL`);
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    // what the verifier reads: evidence the store hands back is evidence verify accepts
    this.maxEvidenceBytes = options.maxEvidenceBytes ?? DEFAULT_MAX_LINK_BYTES;
  }

  /** The store as messages name it: its URL without credentials. */
  get shown(): string {
    const copy = new URL(this.base.href);
    copy.username = '';
    copy.password = '';
    return copy.href.replace(/\/$/, '');
  }

  /** Uploads the exact bytes of a link, layout or DSSE envelope; the store answers with their digest. */
  async push(bytes: Uint8Array): Promise<PushResult> {
    const reply = await this.request('POST', 'v1/evidence', { body: bytes, maxBytes: MAX_JSON_BYTES });
    if (reply.status !== 200 && reply.status !== 201) throw this.httpError('upload', reply);
    const receipt = this.json(reply) as Partial<PushResult>;
    if (typeof receipt.digest !== 'string' || !isStoreDigest(receipt.digest) || typeof receipt.created !== 'boolean') {
      throw this.problem('ENVIRONMENT', 'answered the upload without a digest');
    }
    // the store addresses content by its hash: any other answer means it did not store what was sent
    const expected = digestOf(bytes);
    if (receipt.digest !== expected) throw this.problem('ENVIRONMENT', `answered the upload with ${receipt.digest}, not ${expected}`);
    return { digest: receipt.digest, kind: receipt.kind as EvidenceKind, created: receipt.created };
  }

  /**
   * The exact bytes stored under `digest`, checked to hash to it; undefined when the store has none.
   *
   * @throws EvidentError DIGEST_MISMATCH when the store returned other bytes
   */
  async get(digest: StoreDigest): Promise<Buffer | undefined> {
    const reply = await this.request('GET', `v1/evidence/${digest}`, { maxBytes: this.maxEvidenceBytes });
    if (reply.status === 404) return undefined;
    if (reply.status !== 200) throw this.httpError(`fetching ${digest}`, reply);
    const got = digestOf(reply.body);
    if (got !== digest) throw this.problem('DIGEST_MISMATCH', `returned bytes hashing to ${got} for ${digest}; nothing written`);
    return reply.body;
  }

  /** One page of a search, newest first. */
  async query(query: EvidenceQuery): Promise<EvidencePage> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
    const reply = await this.request('GET', `v1/evidence?${params.toString()}`, { maxBytes: MAX_JSON_BYTES });
    if (reply.status !== 200) throw this.httpError('search', reply);
    const page = this.json(reply) as Partial<EvidencePage>;
    if (!Array.isArray(page.items) || (page.next !== undefined && typeof page.next !== 'string')) {
      throw this.problem('ENVIRONMENT', 'answered the search without an item list');
    }
    for (const item of page.items as unknown[]) {
      const it = item as Partial<EvidenceItem> | null;
      if (typeof it !== 'object' || it === null || typeof it.digest !== 'string' || !isStoreDigest(it.digest)) {
        throw this.problem('ENVIRONMENT', 'answered the search with an item without a digest');
      }
    }
    return page as EvidencePage;
  }

  /**
   * Every item a search finds, following the cursors; more than `max` items is an error rather than an
   * unbounded walk (the caller names what to narrow).
   */
  async queryAll(query: Omit<EvidenceQuery, 'cursor'>, max: number): Promise<EvidenceItem[]> {
    const items: EvidenceItem[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.query({ ...query, ...(cursor !== undefined ? { cursor } : {}) });
      items.push(...page.items);
      if (items.length > max) throw this.problem('TOO_LARGE', `the search found more than ${max} items; narrow it`);
      if (page.next === undefined || page.items.length === 0) return items;
      cursor = page.next;
    }
  }

  private async request(method: 'GET' | 'POST', path: string, options: { body?: Uint8Array; maxBytes: number }): Promise<Reply> {
    const url = new URL(path, this.base);
    const headers: Record<string, string> = { accept: method === 'GET' && !path.includes('?') ? '*/*' : 'application/json' };
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(options.body.length);
    }
    // loaded by the call: `evident run --help` imports the command file that imports this one
    const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    const tls = this.options.tls ?? {};
    const send = (fresh: boolean): Promise<Reply> =>
      new Promise<Reply>((resolve, reject) => {
        // a retry goes on a connection of its own: the pool may hold more connections the store has closed
        const req = request(url, { method, headers, timeout: this.timeoutMs, ...tls, ...(fresh ? { agent: false } : {}) }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > options.maxBytes) {
              req.destroy();
              reject(this.problem('TOO_LARGE', `answered with more than ${options.maxBytes} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', (e) => reject(this.unreachable(e)));
        });
        req.on('timeout', () =>
          req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })),
        );
        req.on('error', (e: Error & { code?: string }) => {
          // a kept-alive connection the store closed meanwhile (it restarted, or stopped) resets the request sent on
          // it: that says nothing of the store yet, so a GET (which changes nothing) is sent once more on a new connection
          if (!fresh && method === 'GET' && req.reusedSocket && e.code === 'ECONNRESET') resolve(send(true));
          else reject(this.unreachable(e));
        });
        req.end(options.body);
      });
    return send(false);
  }

  private json(reply: Reply): unknown {
    try {
      return JSON.parse(reply.body.toString('utf8'));
    } catch {
      throw this.problem('ENVIRONMENT', `answered HTTP ${reply.status} with something that is not JSON`);
    }
  }

  /** An HTTP error status as the store worded it (`{"error": "…"}`), mapped to whose problem it is. */
  private httpError(what: string, reply: Reply): EvidentError {
    let said = '';
    try {
      const error = (JSON.parse(reply.body.toString('utf8')) as { error?: unknown }).error;
      if (typeof error === 'string') said = `: ${oneLine(error).slice(0, 300)}`;
    } catch {
      // not the store's JSON (a proxy's page): the status says enough
    }
    const s = reply.status;
    const hint = s === 401 ? ' (give a token: --store-token-file FILE or EVIDENT_STORE_TOKEN, or --spiffe-socket for an X509-SVID)' : '';
    const code: EvidentErrorCode = s === 404 ? 'NOT_FOUND' : s === 400 || s === 413 || s === 415 || s === 422 ? 'BAD_INPUT' : 'ENVIRONMENT';
    return this.problem(code, `${what}: HTTP ${s}${said}${hint}`);
  }

  private unreachable(e: Error & { code?: string }): EvidentError {
    const why = e.code === 'ECONNREFUSED' ? 'connection refused' : (e.code ?? oneLine(e.message));
    return this.problem(
      'ENVIRONMENT',
      `cannot be reached (${why}${e.code && e.code !== 'ECONNREFUSED' ? `: ${oneLine(e.message)}` : ''}); is it running?`,
      e,
    );
  }

  private problem(code: EvidentErrorCode, message: string, cause?: unknown): EvidentError {
    return new EvidentError(code, `store ${this.shown}: ${message}`, { cause });
  }
}

/**
 * The store's address as given (`--store`, EVIDENT_STORE_URL): an http or https URL, always ending in `/`
 * so that the API's paths resolve under a path prefix (a store behind a proxy at /evidence/).
 *
 * @throws EvidentError BAD_USAGE for anything else
 */
export function storeUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EvidentError('BAD_USAGE', `store '${oneLine(url).slice(0, 200)}' is not a URL (http://HOST:PORT or https://HOST:PORT)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new EvidentError('BAD_USAGE', `store ${parsed.protocol}//${parsed.host}: only http and https URLs are supported`);
  }
  if (parsed.search !== '' || parsed.hash !== '')
    throw new EvidentError('BAD_USAGE', `store ${parsed.origin}: give the base URL, without ? or #`);
  if (!parsed.pathname.endsWith('/')) parsed.pathname += '/';
  return parsed;
}
