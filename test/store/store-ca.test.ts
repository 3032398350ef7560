/**
 * `--store-ca FILE`: a client without an SVID trusts an https store by the CAs it names. Real TLS on
 * 127.0.0.1 against the real store: a store serving an X509-SVID is accepted for its chain (its host name
 * is not what an SVID names), a store serving an ordinary certificate must still name the host, and CAs
 * other than the store's are refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { isEvidentError } from '../../src/errors.js';
import { StoreClient } from '../../src/store/client.js';
import { startEvidenceStore, type RunningEvidenceStore } from '../../src/store/server.js';
import { withStoreCa } from '../../src/store/store-ca.js';
import { runCli } from '../helpers/cli.js';
import { makeCa, makeCert, makeRoot, makeSvid } from '../helpers/pki.js';
import { tokenDir } from './server-fixtures.js';

describe('--store-ca: the CAs an https store is trusted by', () => {
  let dir: string;
  let svidStore: RunningEvidenceStore;
  let webStore: RunningEvidenceStore;
  let caPem: string;
  let webRootPem: string;
  let otherPem: string;

  before(async () => {
    const t = tokenDir(['t']);
    dir = t.dir;
    const now = new Date();
    const ca = await makeCa('corp.example', now);
    caPem = ca.pem;
    otherPem = (await makeCa('corp.example', now)).pem;
    const svid = (await makeSvid(ca, '/evidence/store', { now })).marshal();
    writeFileSync(join(dir, 'svid.pem'), svid.certificates);
    writeFileSync(join(dir, 'svid.key'), svid.privateKey);
    // an ordinary server certificate (no SPIFFE ID) for another host than the one the client dials
    const webRoot = await makeRoot('web', { now });
    webRootPem = webRoot.pem;
    const web = await makeCert({ issuer: webRoot, subject: 'CN=store.other.example', dnsNames: ['store.other.example'], now });
    writeFileSync(join(dir, 'web.pem'), web.pem);
    writeFileSync(join(dir, 'web.key'), web.key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    svidStore = await startEvidenceStore({
      datastore: `sqlite:${join(dir, 'a.sqlite3')}`,
      tokenFile: t.tokenFile,
      tlsCert: join(dir, 'svid.pem'),
      tlsKey: join(dir, 'svid.key'),
    });
    webStore = await startEvidenceStore({
      datastore: `sqlite:${join(dir, 'b.sqlite3')}`,
      tokenFile: t.tokenFile,
      tlsCert: join(dir, 'web.pem'),
      tlsKey: join(dir, 'web.key'),
    });
  });
  after(async () => {
    await svidStore?.close();
    await webStore?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const search = (url: string, pem: string) => new StoreClient({ url, tls: withStoreCa(pem, 'ca.pem') }).query({ limit: 1 });
  const refused = async (p: Promise<unknown>, message: RegExp) => {
    await assert.rejects(p, (e: unknown) => isEvidentError(e) && e.code === 'ENVIRONMENT' && message.test(e.message));
  };

  it('reaches a store serving an X509-SVID of the CA given, at any host name', async () => {
    assert.deepEqual((await search(svidStore.url, caPem)).items, []);
  });

  it('refuses a store whose certificate chains to another CA, and one whose ordinary certificate names another host', async () => {
    await refused(search(svidStore.url, otherPem), /cannot be reached .*(certificate|verify)/);
    await refused(search(webStore.url, webRootPem), /cannot be reached .*does not match certificate's altnames/);
  });

  it("checks an ordinary certificate's host name as HTTPS does", () => {
    const check = withStoreCa(webRootPem, 'ca.pem').checkServerIdentity!;
    const cert = { subject: { CN: 'store.other.example' }, subjectaltname: 'DNS:store.other.example' } as unknown as PeerCertificate;
    assert.equal(check('store.other.example', cert), undefined);
    assert.ok(check('127.0.0.1', cert) instanceof Error);
  });

  it('evident: a file without a certificate, or an http store, is a usage error (exit 2)', async () => {
    writeFileSync(join(dir, 'empty.pem'), 'nothing here\n');
    const empty = await runCli(['store', 'query', '--store', svidStore.url, '--store-ca', join(dir, 'empty.pem')]);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /empty\.pem: --store-ca: holds no PEM certificate/);
    writeFileSync(join(dir, 'ca.pem'), caPem);
    const http = await runCli(['store', 'query', '--store', 'http://127.0.0.1:1', '--store-ca', join(dir, 'ca.pem')]);
    assert.equal(http.code, 2, http.stderr);
    assert.match(http.stderr, /--store-ca is for an https:\/\/ store, not http:\/\/127\.0\.0\.1:1/);
    const ok = await runCli(['store', 'query', '--store', svidStore.url, '--store-ca', join(dir, 'ca.pem')]);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
