// A mutation fuzz of the TSA's request parser: thousands of random changes to good requests (byte flips,
// insertions, deletions, truncations, length bytes set high), each answered in-process and some over HTTP.
// Every answer must be a TimeStampResp: a rejection with a failure bit, or a token that answers the request
// as it was read. Never an exception, never a hang.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AsnConvert, asn1, OctetString } from '../../src/crypto/x509/x509.js';
import { tsp } from '../../src/time/asn1.js';
import { objectIdentifier } from '../../src/crypto/object-identifier.js';
import { startTsaServer, TIMESTAMP_QUERY } from '../../src/time/http.js';
import { timestampRequestDer } from '../../src/time/request-der.js';
import { failureNames } from '../../src/time/response.js';
import { readToken } from '../../src/time/token.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { ManualClock } from '../../src/util/clock.js';
import { T0 } from '../helpers/pki.js';
import { seededRandom } from '../helpers/random.js';
import { tsaPki, type TsaPki } from './helpers.js';

/** Good requests to start from: each hash, with and without nonce, certReq and policy. */
function seeds(policy: string): Buffer[] {
  const out: Buffer[] = [];
  for (const [oid, name] of [
    ['2.16.840.1.101.3.4.2.1', 'sha256'],
    ['2.16.840.1.101.3.4.2.3', 'sha512'],
  ] as const) {
    for (const extra of [
      {},
      { nonce: new Uint8Array([0x12, 0x34, 0x56, 0x78, 0x9a]).buffer, certReq: true },
      { reqPolicy: policy, certReq: true },
    ]) {
      const req = new tsp.TimeStampReq({
        messageImprint: new tsp.MessageImprint({
          hashAlgorithm: new asn1.AlgorithmIdentifier({ algorithm: oid }),
          hashedMessage: new OctetString(createHash(name).update('fuzz').digest()),
        }),
        ...extra,
      });
      out.push(Buffer.from(AsnConvert.serialize(req)));
    }
  }
  return out;
}

function mutate(seed: Buffer, random: () => number): Buffer {
  const b = Buffer.from(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const rounds = 1 + pick(4);
  let out = b;
  for (let i = 0; i < rounds; i++) {
    const at = pick(out.length + 1);
    switch (pick(6)) {
      case 0: // flip one bit
        if (out.length > 0) out[Math.min(at, out.length - 1)]! ^= 1 << pick(8);
        break;
      case 1: // a random byte
        if (out.length > 0) out[Math.min(at, out.length - 1)] = pick(256);
        break;
      case 2: // insert random bytes
        out = Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(8) }, () => pick(256))), out.subarray(at)]);
        break;
      case 3: // delete a few bytes
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + pick(4))]);
        break;
      case 4: // truncate
        out = out.subarray(0, at);
        break;
      default: // a length byte claiming much more (long forms, indefinite 0x80)
        if (out.length > 1) out[1 + pick(out.length - 1)] = [0x80, 0x81, 0x82, 0x84, 0xff, 0x7f][pick(6)]!;
    }
  }
  return out;
}

/** Checks one answer; returns whether it granted a token. */
function checkAnswer(pki: TsaPki, request: Buffer, reply: Buffer): boolean {
  const resp = AsnConvert.parse(reply, tsp.TimeStampResp);
  if (resp.status.status === tsp.PKIStatus.rejection) {
    assert.equal(resp.timeStampToken, undefined);
    assert.equal(failureNames(resp.status.failInfo).length, 1, `a rejection names one failure, for ${request.toString('hex')}`);
    return false;
  }
  assert.equal(resp.status.status, tsp.PKIStatus.granted, `neither granted nor rejected, for ${request.toString('hex')}`);
  // granted: the request was a DER TimeStampReq, and the token answers it and verifies
  const req = AsnConvert.parse(request, tsp.TimeStampReq);
  const token = Buffer.from(AsnConvert.serialize(resp.timeStampToken!));
  const reading = readToken(token);
  assert.ok(reading.ok);
  const { tstInfo } = reading.parts;
  assert.deepEqual(Buffer.from(tstInfo.messageImprint.hashedMessage.buffer), Buffer.from(req.messageImprint.hashedMessage.buffer));
  assert.deepEqual(tstInfo.nonce && Buffer.from(tstInfo.nonce), req.nonce && Buffer.from(req.nonce));
  const verified = verifyTimestampToken(token, Buffer.alloc(0), [pki.root.cert], { intermediates: [pki.tsa.cert, pki.intermediate.cert] });
  // the data is unknown here: everything but the imprint must hold
  assert.equal(verified.ok ? 'ok' : verified.reason, 'MESSAGE_IMPRINT');
  return true;
}

describe('TSA request parser fuzz', () => {
  it('answers 5 000 mutated requests in-process with a rejection or a valid token', async () => {
    const pki = await tsaPki(T0);
    const policy = '1.2.3.4.5';
    const tsa = pki.authority({
      clock: new ManualClock(T0.getTime()),
      policy,
      onError: (e) => assert.fail(`internal error: ${String(e)}`),
    });
    const random = seededRandom(3161);
    const starts = seeds(policy);
    let granted = 0;
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 5000 && Date.now() < deadline; i++) {
      const request = mutate(starts[i % starts.length]!, random);
      if (checkAnswer(pki, request, tsa.respond(request))) granted++;
    }
    // some mutations leave a valid request (a changed hash byte): both branches are exercised
    assert.ok(granted > 0, 'no mutated request was granted');
  });

  it('writes back every mutated request it reads as the library would, so both take the same bytes for DER', () => {
    // the TSA checks a request is DER by writing what it read back by hand (request-der.ts) and comparing
    const policy = '1.2.3.4.5';
    const policyDer = objectIdentifier(policy);
    const random = seededRandom(5816);
    const withNull = seeds(policy).map((der) => {
      // the same requests with NULL hash parameters, which RFC 5754 allows
      const req = AsnConvert.parse(der, tsp.TimeStampReq);
      req.messageImprint.hashAlgorithm.parameters = null;
      return Buffer.from(AsnConvert.serialize(req));
    });
    const starts = [...seeds(policy), ...withNull];
    let compared = 0;
    for (let i = 0; i < 20_000; i++) {
      const request = mutate(starts[i % starts.length]!, random);
      let read: tsp.TimeStampReq;
      try {
        read = AsnConvert.parse(request, tsp.TimeStampReq);
      } catch {
        continue;
      }
      const ours = timestampRequestDer(read, policy, policyDer);
      if (ours === undefined) continue;
      compared++;
      assert.deepEqual(ours, Buffer.from(AsnConvert.serialize(read)), `written differently from the library: ${request.toString('hex')}`);
    }
    assert.ok(compared > 2000, `only ${compared} mutated requests were written back by hand`);
  });

  it('answers 500 mutated requests over HTTP, none left without a reply', async (t) => {
    const pki = await tsaPki();
    const policy = '1.2.3.4.5';
    const server = await startTsaServer({ authority: pki.authority({ policy }) });
    t.after(() => server.close());
    const random = seededRandom(1701);
    const starts = seeds(policy);
    for (let i = 0; i < 500; i++) {
      const request = mutate(starts[i % starts.length]!, random);
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': TIMESTAMP_QUERY },
        body: request,
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(res.status, 200);
      checkAnswer(pki, request, Buffer.from(await res.arrayBuffer()));
    }
  });
});
