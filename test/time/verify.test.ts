// verifyTimestampToken (src/time/verify.ts): each check fails on the token that breaks it, with its reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AsnConvert, asn1, OctetString } from '../../src/crypto/x509/x509.js';
import { cms, PreEncoded, tsp } from '../../src/time/asn1.js';
import { SignedDataIn } from '../../src/time/asn1-read.js';
import { TokenSigner } from '../../src/time/token-signer.js';
import { verifyTimestampToken, type TimestampVerification } from '../../src/time/verify.js';
import { ManualClock } from '../../src/util/clock.js';
import { makeCert, makeRoot, makeTsaCert, T0 } from '../helpers/pki.js';
import { tsaPki, type TsaPki } from './helpers.js';

const DATA = Buffer.from('the signature bytes');

/** A token over DATA from `pki`'s authority at `at`, with its certificates. */
function tokenAt(pki: TsaPki, at: Date): Buffer {
  const req = new tsp.TimeStampReq({
    messageImprint: new tsp.MessageImprint({
      hashAlgorithm: new asn1.AlgorithmIdentifier({ algorithm: '2.16.840.1.101.3.4.2.1' }),
      hashedMessage: new OctetString(createHash('sha256').update(DATA).digest()),
    }),
    certReq: true,
  });
  const resp = AsnConvert.parse(
    pki.authority({ clock: new ManualClock(at.getTime()) }).respond(new Uint8Array(AsnConvert.serialize(req))),
    tsp.TimeStampResp,
  );
  return Buffer.from(AsnConvert.serialize(resp.timeStampToken!));
}

/** A token signed by `signer` with any genTime, as no honest TSA makes one: for the checks of what a TSA must not do. */
function forgedToken(privateKey: import('node:crypto').KeyObject, chain: TsaPki['tsa']['cert'][], genTime: Date): Buffer {
  const tstInfo = new tsp.TSTInfo({
    policy: '1.2.3.4',
    messageImprint: new tsp.MessageImprint({
      hashAlgorithm: new asn1.AlgorithmIdentifier({ algorithm: '2.16.840.1.101.3.4.2.1' }),
      hashedMessage: new OctetString(createHash('sha256').update(DATA).digest()),
    }),
    serialNumber: new Uint8Array([1]).buffer,
    genTime,
  });
  return new TokenSigner({ privateKey, chain }).sign(new Uint8Array(AsnConvert.serialize(tstInfo)), true);
}

function reason(r: TimestampVerification): string {
  return r.ok ? 'ok' : r.reason;
}

describe('verifyTimestampToken', () => {
  it('accepts a good token and returns genTime, the TSA certificate, its chain, policy and serial', async () => {
    const pki = await tsaPki(T0);
    const r = verifyTimestampToken(tokenAt(pki, T0), DATA, [pki.root.cert]);
    assert.ok(r.ok, !r.ok ? r.message : '');
    assert.equal(r.genTime.getTime(), T0.getTime());
    assert.deepEqual(
      r.chain.map((c) => c.subject),
      [pki.tsa.cert.subject, pki.intermediate.cert.subject, pki.root.cert.subject],
    );
    assert.match(r.serial, /^[0-9a-f]{32}$/);
  });

  it('refuses other data (MESSAGE_IMPRINT)', async () => {
    const pki = await tsaPki(T0);
    const r = verifyTimestampToken(tokenAt(pki, T0), Buffer.from('other bytes'), [pki.root.cert]);
    assert.equal(reason(r), 'MESSAGE_IMPRINT');
  });

  it('refuses a token that does not chain to a trusted root (UNTRUSTED)', async () => {
    const pki = await tsaPki(T0);
    const stranger = await makeRoot('stranger', { now: T0 });
    const r = verifyTimestampToken(tokenAt(pki, T0), DATA, [stranger.cert]);
    assert.equal(reason(r), 'UNTRUSTED');
    assert.match((r as { message: string }).message, /unknown authority/);
  });

  it('refuses a token whose genTime is outside the TSA certificate (TSA_CERTIFICATE_VALIDITY), ', async () => {
    const pki = await tsaPki(T0);
    const after = new Date(pki.tsa.cert.notAfter.getTime() + 1000);
    const r = verifyTimestampToken(forgedToken(pki.tsa.key.privateKey, [pki.tsa.cert, pki.intermediate.cert], after), DATA, [
      pki.root.cert,
    ]);
    assert.equal(reason(r), 'TSA_CERTIFICATE_VALIDITY');
    const before = new Date(pki.tsa.cert.notBefore.getTime() - 1000);
    assert.equal(
      reason(verifyTimestampToken(forgedToken(pki.tsa.key.privateKey, [pki.tsa.cert], before), DATA, [pki.root.cert])),
      'TSA_CERTIFICATE_VALIDITY',
    );
  });

  it("refuses a token signed under a certificate that is not a TSA's (TSA_CERTIFICATE)", async () => {
    const pki = await tsaPki(T0);
    const plain = await makeCert({ issuer: pki.intermediate, extKeyUsages: ['1.3.6.1.5.5.7.3.8'] });
    const r = verifyTimestampToken(forgedToken(plain.key.privateKey, [plain.cert, pki.intermediate.cert], T0), DATA, [pki.root.cert]);
    assert.equal(reason(r), 'TSA_CERTIFICATE');
  });

  it('refuses an altered token: TSTInfo (MESSAGE_DIGEST), signature (SIGNATURE), signed attributes (SIGNATURE)', async () => {
    const pki = await tsaPki(T0);
    const token = tokenAt(pki, T0);
    const imprint = createHash('sha256').update(DATA).digest();
    const inTstInfo = Buffer.from(token);
    const at = inTstInfo.indexOf(imprint);
    inTstInfo[at + 5]! ^= 1;
    assert.equal(reason(verifyTimestampToken(inTstInfo, DATA, [pki.root.cert])), 'MESSAGE_DIGEST');

    const sd = AsnConvert.parse(AsnConvert.parse(token, cms.ContentInfo).content, SignedDataIn);
    const signature = Buffer.from(sd.signerInfos[0]!.signature.buffer);
    const inSignature = Buffer.from(token);
    inSignature[inSignature.indexOf(signature) + 10]! ^= 1;
    assert.equal(reason(verifyTimestampToken(inSignature, DATA, [pki.root.cert])), 'SIGNATURE');

    // the content-type attribute's OID, inside the signed attributes: one byte of id-ct-TSTInfo changed
    const ctOid = Buffer.from('060b2a864886f70d0109100104', 'hex');
    const attrs = Buffer.from(sd.signerInfos[0]!.signedAttrsRaw!);
    const inAttrs = Buffer.from(token);
    const attrsAt = inAttrs.indexOf(attrs);
    const oidAt = inAttrs.indexOf(ctOid, attrsAt);
    assert.ok(oidAt > attrsAt);
    inAttrs[oidAt + ctOid.length - 1] = 0x05;
    assert.equal(reason(verifyTimestampToken(inAttrs, DATA, [pki.root.cert])), 'SIGNATURE');
  });

  it('refuses a token whose signer was swapped for another certificate of the same key (SIGNING_CERTIFICATE)', async () => {
    const pki = await tsaPki(T0);
    // a second TSA certificate of the same key: the signature alone cannot tell the two apart, ESSCertIDv2 can
    const twin = await makeTsaCert(pki.intermediate, { key: pki.tsa.key, subject: 'O=evident, CN=twin TSA' });
    const token = tokenAt(pki, T0);
    const info = AsnConvert.parse(token, cms.ContentInfo);
    const sd = AsnConvert.parse(info.content, SignedDataIn);
    const tbs = AsnConvert.parse(twin.der, asn1.Certificate).tbsCertificate;
    sd.signerInfos[0]!.sid = new cms.SignerIdentifier({
      issuerAndSerialNumber: new cms.IssuerAndSerialNumber({ issuer: tbs.issuer, serialNumber: tbs.serialNumber }),
    });
    sd.certificates = [...(sd.certificates ?? []), new PreEncoded(twin.der)];
    info.content = AsnConvert.serialize(sd);
    const swapped = Buffer.from(AsnConvert.serialize(info));
    assert.equal(reason(verifyTimestampToken(swapped, DATA, [pki.root.cert])), 'SIGNING_CERTIFICATE');
  });

  it('never throws on garbage (MALFORMED) or on a CMS that is not a TSTInfo (CONTENT_TYPE)', async () => {
    const pki = await tsaPki(T0);
    for (const bytes of [Buffer.alloc(0), Buffer.from('not a token'), tokenAt(pki, T0).subarray(0, 100)]) {
      assert.equal(reason(verifyTimestampToken(bytes, DATA, [pki.root.cert])), 'MALFORMED');
    }
    const data = new cms.ContentInfo({
      contentType: '1.2.840.113549.1.7.1',
      content: AsnConvert.serialize(new OctetString(Buffer.from('x'))),
    });
    assert.equal(reason(verifyTimestampToken(Buffer.from(AsnConvert.serialize(data)), DATA, [pki.root.cert])), 'CONTENT_TYPE');
  });

  it('never throws on a token with any one bit flipped, and what still verifies says the same time (the signed parts hold)', async () => {
    // a flipped bit in the carried TSA certificate's key once escaped as an OpenSSL "decode error"
    const pki = await tsaPki(T0);
    const token = tokenAt(pki, T0);
    const good = verifyTimestampToken(token, DATA, [pki.root.cert]);
    assert.ok(good.ok);
    for (let i = 0; i < token.length; i++) {
      // one bit per byte, a different one from byte to byte: every byte is touched, in ~1 500 verifications
      for (const bit of [1 << (i % 8)]) {
        const flipped = Buffer.from(token);
        flipped[i]! ^= bit;
        let r: TimestampVerification;
        try {
          r = verifyTimestampToken(flipped, DATA, [pki.root.cert]);
        } catch (e) {
          assert.fail(`byte ${i} ^ ${bit}: threw ${(e as Error).message}`);
        }
        if (r.ok) {
          assert.equal(r.genTime.getTime(), good.genTime.getTime(), `byte ${i} ^ ${bit}`);
          assert.equal(r.serial, good.serial, `byte ${i} ^ ${bit}`);
        }
      }
    }
  });

  it('checks the nonce and the policy when asked', async () => {
    const pki = await tsaPki(T0);
    const token = tokenAt(pki, T0);
    assert.equal(reason(verifyTimestampToken(token, DATA, [pki.root.cert], { nonce: Buffer.from([1, 2, 3]) })), 'NONCE');
    assert.equal(reason(verifyTimestampToken(token, DATA, [pki.root.cert], { policies: ['1.2.3'] })), 'POLICY');
  });
});
