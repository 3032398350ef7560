// The identity server's RFC 3161 time-stamping authority (`tsa_bind`): its tokens chain to the trust
// bundle's roots (the server's own, or an upstream CA's) for openssl and for evident's verifier, follow a
// root rotation, and its certificate is renewed at half life.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { certificatesToPem, parseCertificateDer } from '../../../src/crypto/x509/index.js';
import { ExtendedKeyUsageExtension } from '../../../src/crypto/x509/x509.js';
import { EvidentError } from '../../../src/errors.js';
import { ManualClock, resolveServerConfig, settingsFromEnv } from '../../../src/identity/server/index.js';
import { requestTimestamp, TIMESTAMP_QUERY, verifyTimestampToken } from '../../../src/time/index.js';
import { startServer, type TestServer } from '../../helpers/identity-server.js';
import { makeIntermediate, makeRoot } from '../../helpers/pki.js';
import { openssl, opensslStatus, scratchDir } from '../../time/helpers.js';

const TSA = { tsa_bind: '127.0.0.1:0' };
const DATA = Buffer.from('a signature to stamp');

function tsaUrl(srv: TestServer): string {
  assert.ok(srv.server.tsaAddress, 'the server has a TSA address');
  return `http://${srv.server.tsaAddress}/tsa`;
}

/** A token from the server's TSA for DATA, verified against `roots`. */
async function stampAndVerify(srv: TestServer, roots: Buffer[]) {
  const token = await requestTimestamp(tsaUrl(srv), DATA);
  return {
    token,
    verified: verifyTimestampToken(
      token,
      DATA,
      roots.map((d) => parseCertificateDer(d)),
    ),
  };
}

/** Polls `check` until it holds, at most `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (await check()) return true;
  return check();
}

/** openssl makes a query for `data`, the server answers it, openssl verifies the reply against `caFile`. */
async function opensslRoundTrip(srv: TestServer, dir: string, caFile: string): Promise<{ ok: boolean; output: string }> {
  writeFileSync(join(dir, 'data'), DATA);
  openssl(dir, ['ts', '-query', '-data', 'data', '-sha256', '-cert', '-out', 'q.tsq']);
  const res = await fetch(tsaUrl(srv), {
    method: 'POST',
    headers: { 'content-type': TIMESTAMP_QUERY },
    body: readFileSync(join(dir, 'q.tsq')),
  });
  assert.equal(res.status, 200);
  writeFileSync(join(dir, 'r.tsr'), Buffer.from(await res.arrayBuffer()));
  return opensslStatus(dir, ['ts', '-verify', '-in', 'r.tsr', '-queryfile', 'q.tsq', '-CAfile', caFile]);
}

describe('identity server TSA', () => {
  it("answers openssl's and evident's requests with tokens that chain to the bundle's root, and nothing else's", async (t) => {
    const dir = scratchDir(t);
    const srv = await startServer({ settings: { ...TSA, ca_ttl: '2h' } });
    t.after(() => srv.close());
    const roots = srv.roots();
    writeFileSync(join(dir, 'bundle.pem'), certificatesToPem(roots));

    const viaOpenssl = await opensslRoundTrip(srv, dir, 'bundle.pem');
    assert.ok(viaOpenssl.ok, viaOpenssl.output);
    assert.match(viaOpenssl.output, /Verification: OK/);

    const { verified } = await stampAndVerify(srv, roots);
    assert.ok(verified.ok, JSON.stringify(verified));
    const cert = verified.tsaCertificate;
    assert.equal(cert.subject, 'CN=evident TSA, O=evident');
    assert.equal(verified.chain.length, 2, 'the TSA certificate, then the root: no signing CA between');
    assert.equal(Buffer.from(verified.chain[1]!.rawData).toString('base64'), roots[0]!.toString('base64'));
    const eku = cert.getExtension(ExtendedKeyUsageExtension)!;
    assert.ok(eku.critical);
    assert.deepEqual([...eku.usages].map(String), ['1.3.6.1.5.5.7.3.8']);
    const life = cert.notAfter.getTime() - Date.now();
    assert.ok(life > 7100_000 && life <= 7200_000, `lives the CA TTL (2h), not ${life} ms`);

    // a root that is not the trust domain's: evident and openssl both refuse
    const stranger = await makeRoot('stranger', { now: new Date() });
    const other = verifyTimestampToken((await stampAndVerify(srv, roots)).token, DATA, [stranger.cert]);
    assert.equal(other.ok, false);
    assert.equal(!other.ok && other.reason, 'UNTRUSTED');
    writeFileSync(join(dir, 'stranger.pem'), stranger.pem);
    assert.equal((await opensslRoundTrip(srv, dir, 'stranger.pem')).ok, false);
  });

  it('after a root rotation, new tokens chain to the new root; tokens made before still verify against the old one', async (t) => {
    // no housekeeping tick within the test: the CA's change event alone must renew the TSA certificate
    const srv = await startServer({ settings: TSA, tickMs: 600_000 });
    t.after(() => srv.close());
    const [oldRoot] = srv.roots();
    const before = await stampAndVerify(srv, [oldRoot!]);
    assert.ok(before.verified.ok);

    const prepared = await srv.server.ca.prepareRoot();
    // prepared, the new root signs nothing yet: tokens still come from the old one
    assert.ok((await stampAndVerify(srv, [oldRoot!])).verified.ok);
    await srv.server.ca.activateRoot(prepared.id);
    const newRoot = srv.roots().find((d) => !d.equals(oldRoot!))!;
    assert.ok(
      await eventually(async () => (await stampAndVerify(srv, [newRoot])).verified.ok),
      'a token verifies against the new root alone',
    );
    const after = await stampAndVerify(srv, [oldRoot!]);
    assert.equal(!after.verified.ok && after.verified.reason, 'UNTRUSTED', 'new tokens do not chain to the old root');
    assert.ok(
      verifyTimestampToken(before.token, DATA, [parseCertificateDer(oldRoot!)]).ok,
      'a token made before the rotation still verifies',
    );
  });

  it('renews its certificate at half life, on the housekeeping tick', async (t) => {
    const clock = new ManualClock(Date.now());
    const srv = await startServer({ settings: { ...TSA, ca_ttl: '1h', x509_svid_ttl: '10m' }, clock, tickMs: 50 });
    t.after(() => srv.close());
    const server = srv.server;
    const roots = srv.roots();
    const serial = async () => {
      const v = (await stampAndVerify(srv, roots)).verified;
      assert.ok(v.ok, JSON.stringify(v));
      return v.tsaCertificate.serialNumber;
    };
    const first = await serial();
    // the signing CA (backdated 10 s) reaches half life 5 s before the TSA certificate does: its successor
    // is prepared (the CA's keys change) while the TSA certificate has 3 s to go, so only the tick renews it
    clock.advance(1797_000);
    assert.ok(await eventually(async () => server.ca.keys().some((k) => k.kind === 'x509' && k.status === 'prepared')));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await serial(), first, 'before half life, the same certificate');
    clock.advance(10_000);
    assert.ok(await eventually(async () => (await serial()) !== first), 'past half life, a new certificate');
  });

  it('with an upstream CA, tokens carry its intermediate and chain to the upstream root', async (t) => {
    const dir = scratchDir(t);
    const now = new Date();
    const root = await makeRoot('corp', { now });
    const upstream = await makeIntermediate(root, 'corp', { now });
    writeFileSync(join(dir, 'upstream.pem'), upstream.pem + root.pem);
    writeFileSync(join(dir, 'upstream.key'), upstream.key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    writeFileSync(join(dir, 'root.pem'), root.pem);
    const srv = await startServer({
      settings: { ...TSA, upstream_ca_cert: join(dir, 'upstream.pem'), upstream_ca_key: join(dir, 'upstream.key') },
    });
    t.after(() => srv.close());
    assert.deepEqual(srv.roots(), [root.der]);

    const { verified } = await stampAndVerify(srv, [root.der]);
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.deepEqual(
      verified.chain.map((c) => c.subject),
      ['CN=evident TSA, O=evident', upstream.cert.subject, root.cert.subject],
    );
    assert.ok(verified.tsaCertificate.notAfter <= upstream.cert.notAfter, 'never outlives the upstream CA');
    const viaOpenssl = await opensslRoundTrip(srv, dir, 'root.pem');
    assert.ok(viaOpenssl.ok, viaOpenssl.output);
  });

  it('an address in use is a one-line ENVIRONMENT error; stop() closes the TSA', async (t) => {
    const srv = await startServer({ settings: TSA });
    let closed = false;
    t.after(() => (closed ? undefined : srv.close()));
    const taken = srv.server.tsaAddress!;
    await assert.rejects(startServer({ settings: { tsa_bind: taken } }), (e: unknown) => {
      assert.ok(e instanceof EvidentError);
      assert.equal(e.code, 'ENVIRONMENT');
      assert.equal(e.message, `cannot listen on ${taken}: EADDRINUSE`);
      return true;
    });
    const url = tsaUrl(srv);
    await srv.close();
    closed = true;
    await assert.rejects(fetch(url, { method: 'POST', headers: { 'content-type': TIMESTAMP_QUERY }, body: 'x' }));
  });

  it('tsa_bind comes from flags, the config file or EVIDENT_SERVER_TSA_BIND, and must be HOST:PORT', () => {
    const base = { trust_domain: 'example.org', data_dir: '/d' };
    const fromEnv = resolveServerConfig(
      { flags: base, file: {}, env: settingsFromEnv({ EVIDENT_SERVER_TSA_BIND: '127.0.0.1:3161' }) },
      '/',
    );
    assert.equal(fromEnv.tsaBind, '127.0.0.1:3161');
    assert.equal(resolveServerConfig({ flags: base, file: {}, env: {} }, '/').tsaBind, undefined);
    assert.throws(
      () => resolveServerConfig({ flags: { ...base, tsa_bind: 'localhost' }, file: {}, env: {} }, '/'),
      /tsa_bind address 'localhost' is not HOST:PORT/,
    );
    // refused as the setting is read, not once the datastore and the CA are up and the TSA tries to listen
    assert.throws(
      () => resolveServerConfig({ flags: { ...base, tsa_bind: '127.0.0.1:99999' }, file: {}, env: {} }, '/'),
      /tsa_bind address '127\.0\.0\.1:99999' is not HOST:PORT/,
    );
  });
});
