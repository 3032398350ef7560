/**
 * Who may write and read: bearer tokens, X509-SVIDs over mTLS (real TLS on 127.0.0.1, certificates from
 * the library's own issuer), reads behind a token, and configurations that cannot work.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isEvidentError } from '../../src/errors.js';
import { STORE_SQLITE_FILE } from '../../src/store/evidence-db.js';
import { startEvidenceStore, type RunningEvidenceStore } from '../../src/store/server.js';
import { makeCa, makeSvid, type TestCa } from '../helpers/pki.js';
import { call, edKey, link, linkFile, sha256Of, tokenDir } from './server-fixtures.js';

const TOKEN = 'tok-' + 'x'.repeat(20);

describe('evidence store: writes need a token or a trusted X509-SVID; reads may need one', () => {
  let dir: string;
  let store: RunningEvidenceStore;
  let ca: TestCa;
  let tls: { ca: string };
  let writer: { cert: string; key: string; ca: string };
  let stranger: { cert: string; key: string; ca: string };
  const alice = edKey();

  before(async () => {
    const t = tokenDir([TOKEN]);
    dir = t.dir;
    const now = new Date();
    ca = await makeCa('corp.example', now);
    const evil = await makeCa('corp.example', now); // same trust domain name, a CA the store does not trust
    const server = (await makeSvid(ca, '/evidence-store', { now })).marshal();
    const w = (await makeSvid(ca, '/ci/builder', { now })).marshal();
    const s = (await makeSvid(evil, '/ci/builder', { now })).marshal();
    writeFileSync(join(dir, 'bundle.pem'), ca.pem);
    writeFileSync(join(dir, 'server.pem'), server.certificates);
    writeFileSync(join(dir, 'server.key'), server.privateKey);
    tls = { ca: ca.pem };
    writer = { cert: w.certificates, key: w.privateKey, ca: ca.pem };
    stranger = { cert: s.certificates, key: s.privateKey, ca: ca.pem };
    store = await startEvidenceStore({
      dataDir: dir,
      tokenFile: t.tokenFile,
      trustBundle: join(dir, 'bundle.pem'),
      tlsCert: join(dir, 'server.pem'),
      tlsKey: join(dir, 'server.key'),
      readsNeedToken: true,
    });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const uploaderOf = (digest: string) => {
    const db = new Database(join(dir, STORE_SQLITE_FILE), { readonly: true });
    try {
      return (db.prepare('SELECT uploader FROM evidence WHERE digest = ?').get(digest) as { uploader: string } | undefined)?.uploader;
    } finally {
      db.close();
    }
  };

  it('serves HTTPS and takes an upload from a workload with an X509-SVID of the trusted CA, recording its SPIFFE ID', async () => {
    assert.match(store.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const bytes = linkFile(link('build', {}, {}), [alice]);
    const r = await call(store.url, '/v1/evidence', { body: bytes, tls: writer });
    assert.equal(r.status, 201, r.body.toString());
    assert.equal(uploaderOf(sha256Of(bytes)), 'spiffe://corp.example/ci/builder');
  });

  it('takes an upload with a token, recording the token by a prefix of its hash, never the token', async () => {
    const bytes = linkFile(link('test', {}, {}), [alice]);
    const r = await call(store.url, '/v1/evidence', { body: bytes, tls, token: TOKEN });
    assert.equal(r.status, 201);
    assert.equal(uploaderOf(sha256Of(bytes)), `token:${createHash('sha256').update(TOKEN).digest('hex').slice(0, 12)}`);
  });

  it('refuses an SVID of a CA it does not trust, and a client with neither SVID nor token', async () => {
    const bytes = linkFile(link('evil', {}, {}), [alice]);
    const r = await call(store.url, '/v1/evidence', { body: bytes, tls: stranger });
    assert.equal(r.status, 401);
    assert.equal((await call(store.url, '/v1/evidence', { body: bytes, tls })).status, 401);
    assert.equal((await call(store.url, `/v1/evidence/${sha256Of(bytes)}`, { tls, token: TOKEN })).status, 404);
  });

  it('with --reads-need-token, searches and downloads need a token or an SVID; health and the API document do not', async () => {
    const bytes = linkFile(link('read', {}, {}), [alice]);
    await call(store.url, '/v1/evidence', { body: bytes, tls, token: TOKEN });
    const get = `/v1/evidence/${sha256Of(bytes)}`;
    assert.equal((await call(store.url, get, { tls })).status, 401);
    assert.equal((await call(store.url, '/v1/evidence?step=read', { tls })).status, 401);
    assert.equal((await call(store.url, '/v1/evidence?step=read', { tls, token: 'nope' })).status, 403);
    assert.equal((await call(store.url, `/download/${'a'.repeat(64)}`, { tls })).status, 401);
    assert.ok((await call(store.url, get, { tls, token: TOKEN })).body.equals(bytes));
    assert.ok((await call(store.url, get, { tls: writer })).body.equals(bytes));
    assert.equal(((await call(store.url, '/v1/evidence?step=read', { tls: writer })).json().items as unknown[]).length, 1);
    assert.equal((await call(store.url, '/healthz', { tls })).status, 200);
    assert.equal((await call(store.url, '/openapi.json', { tls })).status, 200);
  });

  it('refuses configurations that cannot work, in one line', async () => {
    const t = tokenDir([]);
    try {
      const cases: [Parameters<typeof startEvidenceStore>[0], RegExp][] = [
        [{ dataDir: t.dir }, /nobody could upload/],
        [{ dataDir: t.dir, tokenFile: t.tokenFile }, /holds no token/],
        [{ dataDir: t.dir, tokenFile: join(t.dir, 'missing') }, /cannot read the token file: ENOENT/],
        [{ dataDir: t.dir, trustBundle: join(dir, 'bundle.pem') }, /--trust-bundle .* needs HTTPS/],
        [
          { dataDir: t.dir, trustBundle: join(dir, 'bundle.pem'), tlsCert: join(dir, 'server.pem') },
          /--tls-cert and --tls-key go together/,
        ],
        [
          { dataDir: t.dir, trustBundle: t.tokenFile, tlsCert: join(dir, 'server.pem'), tlsKey: join(dir, 'server.key') },
          /no PEM certificate/,
        ],
        [{ tokenFile: join(dir, 'bundle.pem'), datastore: 'mysql://x' }, /neither 'sqlite' nor a postgres/],
      ];
      for (const [options, message] of cases) {
        await assert.rejects(startEvidenceStore(options), (e: unknown) => {
          assert.ok(isEvidentError(e) && e.code === 'BAD_USAGE', String(e));
          assert.match(e.message, message);
          return true;
        });
      }
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});
