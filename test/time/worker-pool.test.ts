// TsaWorkerPool (src/time/worker-pool.ts): authorities on worker threads answer as one on the main thread does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AsnConvert, asn1, OctetString } from '../../src/crypto/x509/x509.js';
import { tsp } from '../../src/time/asn1.js';
import { failureNames } from '../../src/time/response.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { TsaWorkerPool } from '../../src/time/worker-pool.js';
import { ManualClock } from '../../src/util/clock.js';
import { T0 } from '../helpers/pki.js';
import { statusOf, tsaPki } from './helpers.js';

const DATA = Buffer.from('pooled');

function request(): Buffer {
  const req = new tsp.TimeStampReq({
    messageImprint: new tsp.MessageImprint({
      hashAlgorithm: new asn1.AlgorithmIdentifier({ algorithm: '2.16.840.1.101.3.4.2.1' }),
      hashedMessage: new OctetString(createHash('sha256').update(DATA).digest()),
    }),
    certReq: true,
  });
  return Buffer.from(AsnConvert.serialize(req));
}

function tokenOf(reply: Buffer): Buffer {
  const resp = AsnConvert.parse(reply, tsp.TimeStampResp);
  assert.equal(resp.status.status, tsp.PKIStatus.granted);
  return Buffer.from(AsnConvert.serialize(resp.timeStampToken!));
}

describe('TsaWorkerPool', () => {
  it("signs on its threads with genTime from the pool's clock, and survives a worker's death", async (t) => {
    const pki = await tsaPki(T0);
    const clock = new ManualClock(T0.getTime() + 5000);
    const pool = await TsaWorkerPool.start(
      { signer: { privateKey: pki.tsa.key.privateKey, chain: [pki.tsa.cert, pki.intermediate.cert] }, clock, policy: '1.2.3.4.8' },
      2,
    );
    t.after(() => pool.close());
    const replies = await Promise.all(Array.from({ length: 20 }, () => pool.respond(request())));
    const serials = new Set<string>();
    for (const reply of replies) {
      const r = verifyTimestampToken(tokenOf(reply), DATA, [pki.root.cert]);
      assert.ok(r.ok, !r.ok ? r.message : '');
      assert.equal(r.genTime.getTime(), T0.getTime() + 5000);
      assert.equal(r.policy, '1.2.3.4.8');
      serials.add(r.serial);
    }
    assert.equal(serials.size, 20, 'serials are unique across threads');
    assert.deepEqual(failureNames(statusOf(await pool.respond(Buffer.from('junk'))).failInfo), ['badDataFormat']);

    // a worker that dies is replaced; the pool keeps answering
    const workers = (pool as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers;
    await workers[0]!.worker.terminate();
    for (let i = 0; i < 4; i++) tokenOf(await pool.respond(request()));
    const until = Date.now() + 20_000;
    while (workers.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(workers.length, 2, 'the dead worker was replaced');
    tokenOf(await pool.respond(request()));
  });

  it('refuses a signer that cannot be a TSA before starting any thread', async () => {
    const pki = await tsaPki(T0);
    await assert.rejects(
      TsaWorkerPool.start({ signer: { privateKey: pki.tsa.key.privateKey, chain: [pki.root.cert] } }, 2),
      /extended key usage/,
    );
  });
});
