import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isEvidentError } from '../../errors.js';
import { isStoreDigest, type StoreDigest } from '../digest.js';
import type { EvidenceDb } from '../evidence-db.js';
import { parseEvidence } from '../evidence.js';
import { artifactChain, type VerdictPolicy } from './artifact-chain.js';
import { artifactPage } from './artifact-page.js';
import { databaseReader } from './database-reader.js';
import { evidencePage } from './evidence-page.js';
import { frame, shortDigest } from './frame.js';
import { html } from './html.js';
import { ICON_SVG, STYLE_CSS } from './style.js';

export interface PagesOptions {
  readonly db: EvidenceDb;
  /** The layout whose verdict artifact pages show; without one they show the chain, unverified. */
  readonly policy?: VerdictPolicy;
  /** Throws (an error with a `status`) when the request may not read: the API's own read check. */
  readonly checkRead: (req: FastifyRequest) => void;
}

/**
 * No script, no frame, nothing from elsewhere: the pages show attacker-written text (step names,
 * paths, commands), escaped, and this policy is the second wall should escaping ever miss.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const RECENT = 25;

/**
 * The store's web pages (docs/store.md, "Pages"): `/` (search, newest evidence), `/search?q=`,
 * `/artifacts/sha256:HEX` (the chain of an artifact and its verdict), `/evidence/sha256:HEX` (one piece
 * of evidence, readable). Server-rendered HTML and SVG: they work without JavaScript, and need no
 * front-end build.
 */
export function registerPages(app: FastifyInstance, options: PagesOptions): void {
  const { db, policy, checkRead } = options;
  const reader = databaseReader(db);

  /** Renders a page, or the error a page should show, always as HTML. */
  const page =
    (render: (req: FastifyRequest, reply: FastifyReply) => Promise<string | undefined>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      reply.headers(SECURITY_HEADERS).type('text/html; charset=utf-8');
      try {
        checkRead(req);
        const text = await render(req, reply);
        return text === undefined ? reply : reply.send(text);
      } catch (e) {
        const status = (e as { status?: number }).status ?? (isEvidentError(e) && e.code === 'BAD_INPUT' ? 400 : 500);
        const message = status >= 500 ? 'the store could not make this page (see its log)' : (e as Error).message;
        if (status >= 500) req.log.error(e);
        return reply.code(status).send(
          frame(
            'error',
            html`<h1>${status === 404 ? 'Not found' : 'Cannot show this'}</h1>
              <p>${message}</p>`,
          ),
        );
      }
    };

  const asset = (type: string, text: string) => async (_req: FastifyRequest, reply: FastifyReply) =>
    reply.headers(SECURITY_HEADERS).type(type).header('cache-control', 'max-age=3600').send(text);
  app.get('/assets/style.css', asset('text/css; charset=utf-8', STYLE_CSS));
  app.get('/assets/icon.svg', asset('image/svg+xml', ICON_SVG));
  // browsers ask for it whatever the page says
  app.get('/favicon.ico', async (_req, reply) => reply.redirect('/assets/icon.svg', 301));

  app.get(
    '/',
    page(async () => {
      const recent = (await db.search({ limit: RECENT })).slice(0, RECENT);
      return frame(
        'evidence',
        html`<h1>Evidence store</h1>
          <p>
            Search by an artifact's digest (<code>sha256:…</code>) or by a file name to see its supply
            chain${policy !== undefined ? html` and its verdict against layout <code>${policy.name}</code>` : ''}.
          </p>
          <h2>Newest evidence</h2>
          ${
            recent.length === 0
              ? html`<p class="muted">Nothing stored yet.</p>`
              : html`<table>
                  <tr>
                    <th>stored</th>
                    <th>kind</th>
                    <th>step</th>
                    <th>signed by</th>
                    <th>evidence</th>
                  </tr>
                  ${recent.map(
                    (s) =>
                      html`<tr>
                        <td>${new Date(s.storedAt).toISOString()}</td>
                        <td>${s.kind}</td>
                        <td>${s.step ?? ''}</td>
                        <td>${s.signers.map((x) => x.spiffeId ?? `key ${x.keyid.slice(0, 8)}`).join(', ')}</td>
                        <td><a href="/evidence/${s.digest}">${shortDigest(s.digest)}</a></td>
                      </tr>`,
                  )}
                </table>`
          }`,
      );
    }),
  );

  app.get(
    '/search',
    page(async (req, reply) => {
      const raw = (req.query as { q?: unknown }).q;
      const q = typeof raw === 'string' ? raw.trim() : '';
      if (q === '')
        return frame(
          'search',
          html`<h1>Search</h1>
            <p>Give a digest or a file name.</p>`,
          q,
        );
      const digest = asDigest(q);
      if (digest !== undefined) {
        await reply.redirect(`/artifacts/${digest}`, 303);
        return undefined;
      }
      const found = await db.findByName(q, 100);
      const body = html`<h1>Artifacts named <code>${q}</code></h1>
        ${
          found.length === 0
            ? html`<p>No evidence in this store names a file <code>${q}</code> (the whole path, or its last part).</p>`
            : html`<table>
                <tr>
                  <th>name</th>
                  <th>artifact</th>
                  <th>as</th>
                  <th>step</th>
                </tr>
                ${found.map(
                  (f) =>
                    html`<tr>
                      <td><code>${f.name}</code></td>
                      <td><a href="/artifacts/${f.artifact}">${shortDigest(f.artifact)}</a></td>
                      <td>${f.role}</td>
                      <td>${f.step ?? ''}</td>
                    </tr>`,
                )}
              </table>`
        }`;
      return frame(`search ${q}`, body, q);
    }),
  );

  app.get(
    '/artifacts/:digest',
    page(async (req) => {
      const digest = (req.params as { digest: string }).digest;
      if (!isStoreDigest(digest))
        throw withStatus(400, `an artifact is named by sha256: and 64 lowercase hex digits, not '${digest.slice(0, 80)}'`);
      const chain = await artifactChain(reader, digest, policy);
      if (chain.links.length === 0 && (await db.search({ digest, limit: 1 })).length === 0) {
        throw withStatus(404, `this store holds no evidence naming the artifact ${digest}`);
      }
      return artifactPage(chain);
    }),
  );

  app.get(
    '/evidence/:digest',
    page(async (req) => {
      const digest = (req.params as { digest: string }).digest;
      if (!isStoreDigest(digest))
        throw withStatus(400, `evidence is named by sha256: and 64 lowercase hex digits, not '${digest.slice(0, 80)}'`);
      const body = await db.get(digest);
      if (body === undefined) throw withStatus(404, `no evidence ${digest} in this store`);
      return evidencePage({ digest, body, facts: parseEvidence(body) });
    }),
  );
}

/** A digest as typed into the search box: `sha256:HEX`, or 64 hex digits alone, in any case. */
function asDigest(q: string): StoreDigest | undefined {
  const hex = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(q)?.[1];
  return hex === undefined ? undefined : `sha256:${hex.toLowerCase()}`;
}

function withStatus(status: number, message: string): Error {
  return Object.assign(new Error(message), { status });
}
