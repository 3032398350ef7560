/**
 * The store's pages over real HTTP: a real store (SQLite), a real chain uploaded, the HTML read back.
 * What a browser shows is test/store/pages-browser.test.ts; this checks the documents and their headers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startEvidenceStore, type RunningEvidenceStore } from '../../src/store/server.js';
import { pageChain, type PageChain } from './chain-fixtures.js';
import { call, edKey, link, linkFile, tokenDir } from './server-fixtures.js';

const TOKEN = 'page-test-token';

describe('evidence store pages', () => {
  let store: RunningEvidenceStore;
  let bare: RunningEvidenceStore;
  let chain: PageChain;
  let dir: string;

  before(async () => {
    ({ dir } = tokenDir([TOKEN]));
    const { tokenFile } = tokenDir([TOKEN]);
    chain = pageChain(dir);
    store = await startEvidenceStore({ dataDir: dir, tokenFile, layout: chain.layoutFile, layoutKeys: [chain.ownerKeyFile] });
    bare = await startEvidenceStore({ datastore: `sqlite:${dir}/bare.sqlite3`, tokenFile });
    for (const s of [store, bare]) {
      for (const body of [...chain.honest, ...chain.tampered]) {
        const r = await call(s.url, '/v1/evidence', { body, token: TOKEN });
        assert.ok(r.status === 201 || r.status === 200, r.body.toString());
      }
    }
  });
  after(async () => {
    await store?.close();
    await bare?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const page = async (s: RunningEvidenceStore, path: string) => {
    const r = await call(s.url, path);
    // markup whitespace is the formatter's; what is asserted is the text and the elements
    return { ...r, text: r.body.toString('utf8').replace(/\s+/g, ' ') };
  };

  it('an honest chain: PASSED against the layout, every step drawn and described, with who signed', async () => {
    const r = await page(store, `/artifacts/${chain.honestProduct}`);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.match(r.text, /class="verdict passed"/);
    assert.match(r.text, /<svg\s+class="chain"/);
    for (const step of ['code', 'build', 'package'])
      assert.match(r.text, new RegExp(`<section class="step passed"[^>]*data-step="${step}"`));
    assert.match(r.text, /app\.tar\.gz/);
    assert.doesNotMatch(r.text, /failing-rule/);
  });

  it('a tampered chain: FAILED, the build step red, its DISALLOW rule marked as the one that failed', async () => {
    const r = await page(store, `/artifacts/${chain.tamperedProduct}`);
    assert.equal(r.status, 200);
    assert.match(r.text, /class="verdict failed"[^>]*>\s*FAILED against layout root\.layout: step build: /);
    assert.match(r.text, /<section class="step failed"[^>]*data-step="build"/);
    assert.match(r.text, /<section class="step passed"[^>]*data-step="code"/);
    assert.match(r.text, /<li class="failing-rule"><code>DISALLOW \*<\/code>/);
    assert.match(r.text, /evil\.patch/);
    assert.match(r.text, /<g class="node step failed"/);
  });

  it('without a layout: the chain is shown, marked not verified', async () => {
    const r = await page(bare, `/artifacts/${chain.honestProduct}`);
    assert.equal(r.status, 200);
    assert.match(r.text, /class="verdict unverified"/);
    assert.match(r.text, /data-step="code"/);
    assert.match(r.text, /data-step="package"/);
  });

  it('search: a digest goes to its page; a file name (whole or last part) lists the artifacts so named', async () => {
    const hexOnly = chain.honestProduct.slice('sha256:'.length).toUpperCase();
    const redirect = await call(store.url, `/search?q=${hexOnly}`);
    assert.equal(redirect.status, 303);
    assert.equal(redirect.headers.location, `/artifacts/${chain.honestProduct}`);
    const byBase = await page(store, '/search?q=main.c');
    assert.match(byBase.text, /<code>src\/main\.c<\/code>/);
    const byName = await page(store, '/search?q=app.tar.gz');
    assert.ok(byName.text.includes(chain.honestProduct) && byName.text.includes(chain.tamperedProduct), byName.text);
    const none = await page(store, '/search?q=nothing-here.bin');
    assert.match(none.text, /No evidence in this store names a file/);
  });

  it('the home page lists the newest evidence; an evidence page shows it readable, with its artifacts linked', async () => {
    const home = await page(store, '/');
    assert.match(home.text, /Newest evidence/);
    const evidence = /href="(\/evidence\/sha256:[0-9a-f]{64})"/.exec(home.text)?.[1];
    assert.ok(evidence);
    const e = await page(store, evidence);
    assert.equal(e.status, 200);
    assert.match(e.text, /<pre>/);
    assert.match(e.text, /href="\/artifacts\/sha256:[0-9a-f]{64}"/);
  });

  it('no script can run: text from evidence is escaped, and the policy forbids scripts anyway', async () => {
    const attacker = edKey();
    const evil = linkFile(
      link('<script>alert(1)<script>', { '"><img src=x onerror=alert(2)>': 'aa'.repeat(32) }, { 'x.bin': 'bb'.repeat(32) }),
      [attacker],
    );
    assert.equal((await call(bare.url, '/v1/evidence', { body: evil, token: TOKEN })).status, 201);
    const r = await page(bare, `/artifacts/sha256:${'bb'.repeat(32)}`);
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.text, /<script>|<img /);
    assert.match(r.text, /&lt;script&gt;alert\(1\)&lt;script&gt;/);
    assert.match(r.text, /&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;/);
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  });

  it('bad addresses are HTML errors with the right status: 400 for a malformed digest, 404 for an unknown one', async () => {
    const bad = await page(store, '/artifacts/sha256:XYZ');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /sha256: and 64 lowercase hex digits/);
    const unknown = await page(store, `/artifacts/sha256:${'0'.repeat(64)}`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /holds no evidence naming the artifact/);
    assert.equal((await page(store, `/evidence/sha256:${'0'.repeat(64)}`)).status, 404);
  });

  it('with --reads-need-token, the pages need credentials too', async () => {
    const { tokenFile } = tokenDir([TOKEN]);
    const closed = await startEvidenceStore({ datastore: `sqlite:${dir}/closed.sqlite3`, tokenFile, readsNeedToken: true });
    try {
      assert.equal((await call(closed.url, '/')).status, 401);
      assert.equal((await call(closed.url, '/', { token: TOKEN })).status, 200);
    } finally {
      await closed.close();
    }
  });

  it('a layout without keys, or keys without a layout, is refused at start', async () => {
    const { tokenFile } = tokenDir([TOKEN]);
    await assert.rejects(startEvidenceStore({ dataDir: dir, tokenFile, layout: chain.layoutFile }), /--layout-key/);
    await assert.rejects(startEvidenceStore({ dataDir: dir, tokenFile, layoutKeys: [chain.ownerKeyFile] }), /--layout-key is for --layout/);
  });
});
