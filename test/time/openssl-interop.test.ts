// evident's TSA, client and verifier against the openssl binary's (`openssl ts`): queries openssl makes are
// answered over HTTP and the replies verified by openssl; tokens evident's client gets are verified by
// openssl; tokens openssl's own TSA makes are verified by evident.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestTimestamp } from '../../src/time/client.js';
import { startTsaServer, TIMESTAMP_QUERY } from '../../src/time/http.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { HOUR, makeTsaCert } from '../helpers/pki.js';
import { openssl, opensslStatus, opensslTsaConfig, scratchDir, statusOf, tsaPki, writePki } from './helpers.js';

/** POSTs a query file to the TSA and writes the reply next to it. */
async function ask(url: string, queryFile: string, replyFile: string): Promise<Response> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': TIMESTAMP_QUERY }, body: readFileSync(queryFile) });
  writeFileSync(replyFile, Buffer.from(await res.arrayBuffer()));
  return res;
}

describe('openssl ts against evident', () => {
  it("openssl's queries (SHA-256/384/512, with and without certificates) get replies openssl verifies", async (t) => {
    const dir = scratchDir(t);
    const pki = await tsaPki();
    writePki(dir, pki);
    writeFileSync(join(dir, 'data'), 'hello, time');
    const server = await startTsaServer({ authority: pki.authority() });
    t.after(() => server.close());
    for (const hash of ['-sha256', '-sha384', '-sha512']) {
      openssl(dir, ['ts', '-query', '-data', 'data', hash, '-cert', '-out', 'q.tsq']);
      const res = await ask(server.url, join(dir, 'q.tsq'), join(dir, 'r.tsr'));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/timestamp-reply');
      // the token carries the intermediate; the query file pins the imprint and the nonce
      const out = openssl(dir, ['ts', '-verify', '-in', 'r.tsr', '-queryfile', 'q.tsq', '-CAfile', 'root.pem']);
      assert.match(out, /Verification: OK/, hash);
      assert.match(
        openssl(dir, ['ts', '-verify', '-in', 'r.tsr', '-data', 'data', '-CAfile', 'root.pem', '-untrusted', 'intermediate.pem']),
        /OK/,
      );
    }
    // without -cert the token carries no certificate: openssl needs the TSA's and the intermediate given
    openssl(dir, ['ts', '-query', '-data', 'data', '-sha256', '-out', 'q.tsq']);
    await ask(server.url, join(dir, 'q.tsq'), join(dir, 'r.tsr'));
    assert.match(openssl(dir, ['ts', '-reply', '-in', 'r.tsr', '-text']), /Status: Granted/);
    assert.ok(!opensslStatus(dir, ['ts', '-verify', '-in', 'r.tsr', '-queryfile', 'q.tsq', '-CAfile', 'root.pem']).ok);
    const untrusted = openssl(dir, [
      'ts',
      '-verify',
      '-in',
      'r.tsr',
      '-queryfile',
      'q.tsq',
      '-CAfile',
      'root.pem',
      '-untrusted',
      'tsa-chain.pem',
    ]);
    assert.match(untrusted, /Verification: OK/);
    // and data that is not what was stamped fails
    writeFileSync(join(dir, 'other'), 'hello, other time');
    assert.ok(
      !opensslStatus(dir, ['ts', '-verify', '-in', 'r.tsr', '-data', 'other', '-CAfile', 'root.pem', '-untrusted', 'tsa-chain.pem']).ok,
    );
  });

  it('a SHA-1 query is refused as openssl reads it: unrecognized or unsupported algorithm (badAlg)', async (t) => {
    const dir = scratchDir(t);
    const pki = await tsaPki();
    writeFileSync(join(dir, 'data'), 'hello');
    const server = await startTsaServer({ authority: pki.authority() });
    t.after(() => server.close());
    openssl(dir, ['ts', '-query', '-data', 'data', '-sha1', '-out', 'q.tsq']);
    await ask(server.url, join(dir, 'q.tsq'), join(dir, 'r.tsr'));
    const text = openssl(dir, ['ts', '-reply', '-in', 'r.tsr', '-text']);
    assert.match(text, /Status: Rejected/);
    assert.match(text, /Failure info:\s*unrecognized or unsupported algorithm identifier/);
    // a policy other than the TSA's, as openssl reads the refusal
    openssl(dir, ['ts', '-query', '-data', 'data', '-sha256', '-tspolicy', '1.2.3.4.99', '-out', 'p.tsq']);
    await ask(server.url, join(dir, 'p.tsq'), join(dir, 'p.tsr'));
    assert.match(openssl(dir, ['ts', '-reply', '-in', 'p.tsr', '-text']), /Failure info:\s*the requested TSA policy is not supported/);
  });

  it("evident's client tokens verify with openssl ts -verify -token_in", async (t) => {
    const dir = scratchDir(t);
    const pki = await tsaPki();
    writePki(dir, pki);
    const server = await startTsaServer({ authority: pki.authority() });
    t.after(() => server.close());
    const signature = Buffer.from('3045022100c0ffee', 'hex');
    writeFileSync(join(dir, 'sig'), signature);
    writeFileSync(join(dir, 'token.der'), await requestTimestamp(server.url, signature));
    const out = openssl(dir, ['ts', '-verify', '-token_in', '-in', 'token.der', '-data', 'sig', '-CAfile', 'root.pem']);
    assert.match(out, /Verification: OK/);
    assert.match(openssl(dir, ['ts', '-reply', '-token_in', '-in', 'token.der', '-token_out', '-text']), /Nonce: 0x[0-9A-F]+/);
  });

  it("openssl's own TSA makes tokens evident verifies, and its token under an expired certificate fails", async (t) => {
    const dir = scratchDir(t);
    const pki = await tsaPki();
    writePki(dir, pki);
    const config = opensslTsaConfig(dir, '1.2.3.4.1');
    const data = Buffer.from('a signature openssl stamps');
    writeFileSync(join(dir, 'data'), data);
    openssl(dir, ['ts', '-query', '-data', 'data', '-sha256', '-cert', '-out', 'q.tsq']);
    const reply = (signer: string) =>
      openssl(dir, [
        'ts',
        '-reply',
        '-config',
        config,
        '-queryfile',
        'q.tsq',
        '-inkey',
        'tsa.key',
        '-signer',
        signer,
        '-chain',
        'intermediate.pem',
        '-token_out',
        '-out',
        'token.der',
      ]);
    reply('tsa.pem');
    const token = readFileSync(join(dir, 'token.der'));
    const r = verifyTimestampToken(token, data, [pki.root.cert]);
    assert.ok(r.ok, !r.ok ? `${r.reason}: ${r.message}` : '');
    assert.equal(r.policy, '1.2.3.4.1');
    assert.ok(Math.abs(r.genTime.getTime() - Date.now()) < 60_000);
    const wrong = verifyTimestampToken(token, Buffer.from('other'), [pki.root.cert]);
    assert.equal(wrong.ok ? 'ok' : wrong.reason, 'MESSAGE_IMPRINT');
    const untrusted = verifyTimestampToken(token, data, [pki.tsa.cert]);
    assert.equal(untrusted.ok ? 'ok' : untrusted.reason, 'UNTRUSTED');

    // openssl signs with a TSA certificate that expired an hour ago: its genTime (now) is past the certificate
    const expired = await makeTsaCert(pki.intermediate, {
      key: pki.tsa.key,
      notBefore: new Date(Date.now() - 3 * HOUR),
      notAfter: new Date(Date.now() - HOUR),
    });
    writeFileSync(join(dir, 'expired.pem'), expired.pem);
    reply('expired.pem');
    const late = verifyTimestampToken(readFileSync(join(dir, 'token.der')), data, [pki.root.cert]);
    assert.equal(late.ok ? 'ok' : late.reason, 'TSA_CERTIFICATE_VALIDITY');
  });

  it('the reply of a refused request is a TimeStampResp openssl reads', async (t) => {
    const dir = scratchDir(t);
    const pki = await tsaPki();
    const server = await startTsaServer({ authority: pki.authority() });
    t.after(() => server.close());
    writeFileSync(join(dir, 'q.tsq'), 'not a query');
    await ask(server.url, join(dir, 'q.tsq'), join(dir, 'r.tsr'));
    assert.equal(statusOf(readFileSync(join(dir, 'r.tsr'))).status, 2);
    assert.match(openssl(dir, ['ts', '-reply', '-in', 'r.tsr', '-text']), /Failure info:\s*the data submitted has the wrong format/);
  });
});
