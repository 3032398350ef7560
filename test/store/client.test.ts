/**
 * The store client and the chain walk over real HTTP(S): answers that lie are caught, pages are followed
 * and bounded, mTLS with an X509-SVID, and the walk's forward search and its choice among duplicates.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { X509BundleSet } from '../../src/spiffe/bundle/set.js';
import { uriSans } from '../../src/spiffe/x509svid/rules.js';
import { parseCertificateDer } from '../../src/crypto/x509/pem.js';
import { StoreClient } from '../../src/store/client.js';
import { walkChain } from '../../src/store/chain.js';
import { svidTls } from '../../src/store/svid-tls.js';
import { isEvidentError } from '../../src/errors.js';
import { artifacts, layout, link, linkName, sign, step } from '../intoto/verify/fixtures.js';
import { alice, bob, BINARY, chainLayout, chainLinks, signers, SOURCES, TARBALL } from '../intoto/verify/chain.js';
import { makeCa, makeSvid } from '../helpers/pki.js';
import { startTestStore, type TestStore } from './test-store.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const digest = (data: string | Buffer) => `sha256:${sha(data)}` as const;

async function serve(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

const TOKEN = 'client-test-token';
let store: TestStore;
before(async () => {
  store = await startTestStore({ token: TOKEN });
});
after(async () => {
  await store.close();
});

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isEvidentError(e), String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

test('get refuses bytes that do not hash to the digest asked for; push refuses a receipt for other bytes', async () => {
  const liar = await serve((req, res) => {
    if (req.method === 'GET') return res.writeHead(200).end('{"not":"it"}');
    return res
      .writeHead(201, { 'content-type': 'application/json' })
      .end(JSON.stringify({ digest: digest('other'), kind: 'link', created: true }));
  });
  try {
    const client = new StoreClient({ url: liar.url });
    await rejectsWith(client.get(digest('wanted')), 'DIGEST_MISMATCH', /returned bytes hashing to sha256:\w+ for sha256:/);
    await rejectsWith(client.push(Buffer.from('{}')), 'ENVIRONMENT', /answered the upload with sha256:\w+, not sha256:/);
  } finally {
    await liar.close();
  }
});

test('a store answering 5xx or something else than JSON is an environment problem naming it', async () => {
  const broken = await serve((_req, res) => res.writeHead(503, { 'content-type': 'text/html' }).end('<html>down</html>'));
  try {
    const client = new StoreClient({ url: `${broken.url}/prefix` });
    await rejectsWith(client.query({}), 'ENVIRONMENT', new RegExp(`^store ${broken.url}/prefix: search: HTTP 503$`));
  } finally {
    await broken.close();
  }
});

test('a search reset on a kept-alive connection the store closed is asked again on a new one; an upload is not', async () => {
  // the store answers each connection's first request and resets any later one on it, as one that restarted
  // (or stopped) between two requests of a pooled connection does
  const page = JSON.stringify({ items: [] });
  const asked: { reused: boolean; method: string }[] = [];
  const served = new WeakSet<object>();
  const store = await serve((req, res) => {
    const reused = served.has(req.socket);
    asked.push({ reused, method: req.method ?? '' });
    if (reused) {
      req.socket.destroy();
      return;
    }
    served.add(req.socket);
    res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive' }).end(page);
  });
  try {
    const client = new StoreClient({ url: store.url });
    assert.deepEqual(await client.query({}), { items: [] });
    // the pooled connection is reset: asked again on a connection of its own
    assert.deepEqual(await client.query({}), { items: [] });
    assert.deepEqual(asked, [
      { reused: false, method: 'GET' },
      { reused: true, method: 'GET' },
      { reused: false, method: 'GET' },
    ]);
    // an upload is not sent twice: the reset is the answer
    await client.query({});
    await rejectsWith(client.push(Buffer.from('{}')), 'ENVIRONMENT', /cannot be reached \(ECONNRESET/);
  } finally {
    await store.close();
  }
});

test('queryAll follows the cursors, and stops with an error past its bound', async () => {
  const client = new StoreClient({ url: store.url, token: TOKEN });
  const sources = chainLinks().code;
  for (let i = 0; i < 5; i++) await client.push(Buffer.from(JSON.stringify(sign({ ...sources, command: ['echo', String(i)] }, [alice()]))));
  const product = digest(SOURCES['src/main.c']);
  const first = await client.query({ digest: product, role: 'product', limit: 2 });
  assert.equal(first.items.length, 2);
  assert.ok(first.next !== undefined, 'a page of two of five has a next');
  const all = await client.queryAll({ digest: product, role: 'product', limit: 2 }, 100);
  assert.equal(all.length, 5);
  assert.deepEqual(all.slice(0, 2), first.items);
  assert.equal(new Set(all.map((i) => i.digest)).size, 5);
  await rejectsWith(client.queryAll({ digest: product, limit: 2 }, 3), 'TOO_LARGE', /more than 3 items/);
});

test('mTLS: the client presents its X509-SVID and trusts the store by the bundle, not the host name', async () => {
  const ca = await makeCa('store.test', new Date());
  const serverSvid = await makeSvid(ca, '/evidence-store', { now: new Date() });
  const clientSvid = await makeSvid(ca, '/ci/builder', { now: new Date() });
  const seen: string[] = [];
  const server = createHttpsServer(
    {
      ...serverSvid.marshal(),
      cert: serverSvid.marshal().certificates,
      key: serverSvid.marshal().privateKey,
      ca: ca.pem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      seen.push(...uriSans(parseCertificateDer(peer.raw)));
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"none"}');
    },
  );
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  // 127.0.0.1 is in no certificate: the host name is not what is trusted
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const bundles = X509BundleSet.of([ca.bundle]);
    assert.equal(await new StoreClient({ url, tls: svidTls(clientSvid, bundles) }).get(digest('x')), undefined);
    assert.deepEqual(seen, ['spiffe://store.test/ci/builder']);
    // without a client certificate the store's TLS refuses; with another trust domain's bundle the client does
    const other = await makeCa('elsewhere.test', new Date());
    await rejectsWith(new StoreClient({ url, tls: { ca: ca.pem } }).get(digest('x')), 'ENVIRONMENT', /cannot be reached/);
    await rejectsWith(
      new StoreClient({ url, tls: svidTls(clientSvid, X509BundleSet.of([other.bundle])) }).get(digest('x')),
      'ENVIRONMENT',
      /cannot be reached/,
    );
    assert.throws(() => new StoreClient({ url: 'http://127.0.0.1:1', tls: svidTls(clientSvid, bundles) }), /needs an https:\/\/ store URL/);
  } finally {
    await new Promise<void>((ok) => server.close(() => ok()));
  }
});

test('walkChain: backwards from the product, forwards to a step that made nothing it was built from, first found kept', async () => {
  const own = await startTestStore({ token: TOKEN });
  try {
    const client = new StoreClient({ url: own.url, token: TOKEN });
    const links = chainLinks();
    const testLink = link('test', { materials: artifacts(BINARY), command: ['./hello', '--selftest'] });
    const layoutWithTest = chainLayout();
    layoutWithTest.steps.push(step({ name: 'test', keys: [bob()], materials: ['MATCH hello WITH PRODUCTS FROM build', 'DISALLOW *'] }));
    // an older build by the same key, of other sources, stored first: the newer one, which made this product's input, is used
    const oldBuild = sign(link('build', { materials: artifacts({ 'src/main.c': 'old' }), products: artifacts(BINARY) }), [bob()]);
    await client.push(Buffer.from(JSON.stringify(oldBuild)));
    const pushed: Record<string, string> = {};
    for (const [name, l] of Object.entries({ ...links, test: testLink })) {
      const bytes = Buffer.from(JSON.stringify(sign(l, [(name === 'test' ? bob : signers[name]!)()])));
      pushed[name] = (await client.push(bytes)).digest;
    }
    // a link of a step the layout does not have is not fetched
    await client.push(Buffer.from(JSON.stringify(sign(link('deploy', { materials: artifacts(TARBALL) }), [alice()]))));

    const walk = await walkChain(client, layoutWithTest, digest(TARBALL['hello.tar.gz']));
    const byPath = Object.fromEntries([...walk.links.values()].map((l) => [l.path, l.digest]));
    assert.deepEqual(byPath, {
      [linkName('package', signers.package!())]: pushed.package,
      [linkName('build', bob())]: pushed.build,
      [linkName('code', alice())]: pushed.code,
      [linkName('test', bob())]: pushed.test,
    });
    assert.equal(walk.skipped.length, 1);
    assert.match(walk.skipped[0]!.reason, /another link of step 'build' by \w{8} \(sha256:\w+\) was found first/);
    await rejectsWith(
      walkChain(client, layoutWithTest, digest(TARBALL['hello.tar.gz']), { maxLinks: 2 }),
      'TOO_LARGE',
      /more than 2 links/,
    );
    // nothing of a product the store does not know
    assert.equal((await walkChain(client, layout([], []), digest('unknown'))).links.size, 0);
  } finally {
    await own.close();
  }
});

test('mTLS against the store itself: an X509-SVID of the trusted domain uploads, over https', async () => {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { startEvidenceStore } = await import('../../src/store/server.js');
  const dir = await mkdtemp(join(tmpdir(), 'evident-store-mtls-'));
  const ca = await makeCa('store.test', new Date());
  const serverSvid = (await makeSvid(ca, '/evidence-store', { now: new Date() })).marshal();
  await writeFile(join(dir, 'cert.pem'), serverSvid.certificates);
  await writeFile(join(dir, 'key.pem'), serverSvid.privateKey);
  await writeFile(join(dir, 'bundle.pem'), ca.pem);
  const running = await startEvidenceStore({
    dataDir: dir,
    tlsCert: join(dir, 'cert.pem'),
    tlsKey: join(dir, 'key.pem'),
    trustBundle: join(dir, 'bundle.pem'),
  });
  try {
    const tls = svidTls(await makeSvid(ca, '/ci/builder', { now: new Date() }), X509BundleSet.of([ca.bundle]));
    const bytes = Buffer.from(JSON.stringify(sign(chainLinks().code, [alice()])));
    const pushed = await new StoreClient({ url: running.url, tls }).push(bytes);
    assert.equal(pushed.created, true);
    assert.deepEqual(await new StoreClient({ url: running.url, tls }).get(pushed.digest), bytes);
    // no SVID and no token: refused
    await rejectsWith(
      new StoreClient({ url: running.url, tls: { ca: ca.pem, checkServerIdentity: tls.checkServerIdentity } }).push(bytes),
      'ENVIRONMENT',
      /upload: HTTP 401/,
    );
  } finally {
    await running.close();
    await rm(dir, { recursive: true, force: true });
  }
});
