// The TSA over HTTP (src/time/http.ts) and the client (src/time/client.ts): what each side does with a
// request or an answer that is not what it should be.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EvidentError } from '../../src/errors.js';
import { requestTimestamp } from '../../src/time/client.js';
import { parseHostPort, startTsaServer, TIMESTAMP_QUERY, TIMESTAMP_REPLY } from '../../src/time/http.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { failureNames } from '../../src/time/response.js';
import { statusOf, tsaPki } from './helpers.js';

const DATA = Buffer.from('signature');

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`, server };
}

async function closed(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** The EvidentError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<EvidentError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof EvidentError, `not an EvidentError: ${String(e)}`);
    return e;
  }
  assert.fail('did not fail');
}

describe('the TSA over HTTP', () => {
  it('answers POST /tsa with application/timestamp-reply, and nothing else', async (t) => {
    const pki = await tsaPki();
    const server = await startTsaServer({ authority: pki.authority(), maxRequestBytes: 1024 });
    t.after(() => server.close());
    const base = server.url.replace(/\/tsa$/, '');
    const query = { 'content-type': TIMESTAMP_QUERY };
    assert.equal((await fetch(`${base}/other`, { method: 'POST', headers: query, body: 'x' })).status, 404);
    const get = await fetch(server.url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal((await fetch(server.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status, 415);
    const garbage = await fetch(server.url, { method: 'POST', headers: query, body: 'x' });
    assert.equal(garbage.status, 200);
    assert.equal(garbage.headers.get('content-type'), TIMESTAMP_REPLY);
    assert.deepEqual(failureNames(statusOf(Buffer.from(await garbage.arrayBuffer())).failInfo), ['badDataFormat']);
  });

  it('refuses a request over the size limit without reading it whole, declared or streamed', async (t) => {
    const pki = await tsaPki();
    const server = await startTsaServer({ authority: pki.authority(), maxRequestBytes: 1024 });
    t.after(() => server.close());
    const declared = await fetch(server.url, { method: 'POST', headers: { 'content-type': TIMESTAMP_QUERY }, body: Buffer.alloc(4096) });
    assert.equal(declared.status, 413);
    assert.deepEqual(failureNames(statusOf(Buffer.from(await declared.arrayBuffer())).failInfo), ['badDataFormat']);
    // chunked: no length said up front; the answer comes once the limit is passed, the rest is not kept
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(server.url, { method: 'POST', headers: { 'content-type': TIMESTAMP_QUERY } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(512);
      let sent = 0;
      const pump = (): void => {
        // bounded: 64 KiB at most, far past the limit
        while (sent < 128 && req.write(chunk)) sent++;
        if (sent < 128) req.once('drain', pump);
      };
      pump();
    });
    assert.equal(status, 413);
  });

  it('parses HOST:PORT, IPv6 in brackets, and refuses anything else', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:3161'), { host: '127.0.0.1', port: 3161 });
    assert.deepEqual(parseHostPort('[::1]:0'), { host: '::1', port: 0 });
    for (const bad of ['127.0.0.1', ':80', 'host:99999', 'a b:1', '::1:80']) {
      assert.throws(() => parseHostPort(bad), /is not HOST:PORT/, bad);
    }
  });
});

describe('requestTimestamp', () => {
  it('returns a token over the SHA-256 of the data, with a nonce and the certificates', async (t) => {
    const pki = await tsaPki();
    const server = await startTsaServer({ authority: pki.authority() });
    t.after(() => server.close());
    const token = await requestTimestamp(server.url, DATA);
    const r = verifyTimestampToken(token, DATA, [pki.root.cert]);
    assert.ok(r.ok && r.hash === 'sha256', JSON.stringify(r));
  });

  it('says ENVIRONMENT, in one line naming the URL, when the TSA cannot be reached or fails', async () => {
    const dead = await listen(() => undefined);
    const deadUrl = dead.url;
    await closed(dead.server);
    const refused = await failure(requestTimestamp(deadUrl, DATA));
    assert.equal(refused.code, 'ENVIRONMENT');
    assert.equal(refused.message, `timestamp server ${deadUrl}: cannot be reached (ECONNREFUSED)`);

    const broken = await listen((_req, res) => {
      res.writeHead(503, 'Service Unavailable');
      res.end('down\nfor maintenance');
    });
    const e503 = await failure(requestTimestamp(broken.url, DATA));
    assert.equal(e503.code, 'ENVIRONMENT');
    assert.equal(e503.message, `timestamp server ${broken.url}: answered HTTP 503 Service Unavailable`);
    await closed(broken.server);

    const silent = await listen(() => undefined);
    const started = Date.now();
    const timeout = await failure(requestTimestamp(silent.url, DATA, { timeoutMs: 300 }));
    assert.equal(timeout.code, 'ENVIRONMENT');
    assert.match(timeout.message, /no answer within 300 ms/);
    assert.ok(Date.now() - started < 5000);
    await closed(silent.server);

    const html = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>');
    });
    assert.match((await failure(requestTimestamp(html.url, DATA))).message, /answered text\/html, not application\/timestamp-reply/);
    await closed(html.server);

    const junk = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': TIMESTAMP_REPLY });
      res.end('junk');
    });
    assert.match((await failure(requestTimestamp(junk.url, DATA))).message, /not an RFC 3161 TimeStampResp/);
    await closed(junk.server);
  });

  it("says why a TSA refused, and refuses a token that does not answer this request (another TSA's reply replayed)", async (t) => {
    const pki = await tsaPki();
    const server = await startTsaServer({ authority: pki.authority({ policy: '1.2.3.4.5' }) });
    t.after(() => server.close());
    const refused = await failure(requestTimestamp(server.url, DATA, { policy: '1.2.3.4.6' }));
    assert.equal(refused.code, 'ENVIRONMENT');
    assert.match(refused.message, /refused the request \(status 2, unacceptedPolicy: policy 1\.2\.3\.4\.6 is not this TSA's/);
    assert.doesNotMatch(refused.message, /\n/);

    // a man in the middle answering every request with one good reply it saw before
    let recorded: Buffer | undefined;
    const replay = await listen(async (req, res) => {
      const body: Buffer[] = [];
      for await (const c of req) body.push(c as Buffer);
      if (recorded === undefined) {
        const upstream = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': TIMESTAMP_QUERY },
          body: Buffer.concat(body),
        });
        recorded = Buffer.from(await upstream.arrayBuffer());
      }
      res.writeHead(200, { 'content-type': TIMESTAMP_REPLY });
      res.end(recorded);
    });
    t.after(() => closed(replay.server));
    await requestTimestamp(replay.url, DATA);
    assert.match((await failure(requestTimestamp(replay.url, DATA))).message, /its nonce differs/);
  });

  it('refuses a URL that is not http(s) as a usage error', async () => {
    assert.equal((await failure(requestTimestamp('ftp://tsa.example/tsa', DATA))).code, 'BAD_USAGE');
    assert.equal((await failure(requestTimestamp('not a url', DATA))).code, 'BAD_USAGE');
  });
});
