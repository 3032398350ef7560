// The time-stamping authority without transport (src/time/authority.ts): what RFC 3161 §2.4 asks of
// the answer to each kind of request.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AsnConvert, asn1, KeyUsageFlags, OctetString } from '../../src/crypto/x509/x509.js';
import { cms, FAILURE_BITS, SigningCertificateV2, id_aa_signingCertificateV2, tsp } from '../../src/time/asn1.js';
import { SignedDataIn } from '../../src/time/asn1-read.js';
import { failureNames } from '../../src/time/response.js';
import { readToken } from '../../src/time/token.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { TimestampAuthority } from '../../src/time/authority.js';
import { ManualClock } from '../../src/util/clock.js';
import { ecKey, HOUR, makeCert, makeTsaCert, T0 } from '../helpers/pki.js';
import { statusOf, tsaPki } from './helpers.js';

const DATA = Buffer.from('the signature bytes');
const SHA256 = '2.16.840.1.101.3.4.2.1';

function request(
  o: { hash?: string; digest?: Buffer; nonce?: Buffer; certReq?: boolean; policy?: string; extensions?: asn1.Extension[] } = {},
): Buffer {
  const req = new tsp.TimeStampReq({
    messageImprint: new tsp.MessageImprint({
      hashAlgorithm: new asn1.AlgorithmIdentifier({ algorithm: o.hash ?? SHA256 }),
      hashedMessage: new OctetString(o.digest ?? createHash('sha256').update(DATA).digest()),
    }),
    ...(o.nonce !== undefined ? { nonce: new Uint8Array(o.nonce).buffer } : {}),
    certReq: o.certReq ?? false,
    ...(o.policy !== undefined ? { reqPolicy: o.policy } : {}),
    ...(o.extensions !== undefined ? { extensions: new asn1.Extensions(o.extensions) } : {}),
  });
  return Buffer.from(AsnConvert.serialize(req));
}

/** The token of a granted reply, as DER. */
function tokenOf(reply: Buffer): Buffer {
  const resp = AsnConvert.parse(reply, tsp.TimeStampResp);
  assert.equal(resp.status.status, tsp.PKIStatus.granted, `not granted: ${resp.status.statusString?.join()}`);
  return Buffer.from(AsnConvert.serialize(resp.timeStampToken!));
}

function rejection(reply: Buffer): { failures: string[]; text: string } {
  const status = statusOf(reply);
  assert.equal(status.status, tsp.PKIStatus.rejection);
  assert.ok(!AsnConvert.parse(reply, tsp.TimeStampResp).timeStampToken, 'a rejection carries no token');
  return { failures: failureNames(status.failInfo), text: status.statusString?.join() ?? '' };
}

describe('TimestampAuthority: tokens', () => {
  it('takes genTime from its clock, echoes the nonce and imprint, names its policy and verifies', async () => {
    const pki = await tsaPki(T0);
    const clock = new ManualClock(T0.getTime() + 1234);
    const tsa = pki.authority({ clock, policy: '1.3.6.1.4.1.99999.1' });
    const nonce = Buffer.from('0a1b2c3d4e5f6071', 'hex');
    const token = tokenOf(tsa.respond(request({ nonce, certReq: true })));
    const { tstInfo } = (readToken(token) as { ok: true; parts: { tstInfo: tsp.TSTInfo } }).parts;
    assert.equal(tstInfo.genTime.getTime(), T0.getTime() + 1234);
    assert.deepEqual(Buffer.from(tstInfo.nonce!), nonce);
    assert.equal(tstInfo.policy, '1.3.6.1.4.1.99999.1');
    const r = verifyTimestampToken(token, DATA, [pki.root.cert], { nonce, policies: ['1.3.6.1.4.1.99999.1'] });
    assert.ok(r.ok, !r.ok ? r.message : '');
    assert.equal(r.genTime.getTime(), T0.getTime() + 1234);
    assert.equal(r.policy, '1.3.6.1.4.1.99999.1');
    assert.equal(r.serial, Buffer.from(tstInfo.serialNumber).toString('hex'));
    assert.equal(r.tsaCertificate.subject, pki.tsa.cert.subject);

    clock.advance(HOUR);
    const later = tokenOf(tsa.respond(request()));
    const r2 = verifyTimestampToken(later, DATA, [pki.root.cert], { intermediates: [pki.tsa.cert, pki.intermediate.cert] });
    assert.ok(r2.ok);
    assert.equal(r2.genTime.getTime(), T0.getTime() + 1234 + HOUR);
    assert.notEqual(r2.serial, r.serial, 'each token has its own serial number');
  });

  it('carries the certificates only when certReq is set, and the ESSCertIDv2 of its certificate always (RFC 5816)', async () => {
    const pki = await tsaPki(T0);
    const tsa = pki.authority({ clock: new ManualClock(T0.getTime()) });
    const expectedHash = createHash('sha256').update(pki.tsa.der).digest();
    for (const certReq of [true, false]) {
      const token = tokenOf(tsa.respond(request({ certReq })));
      const signedData = AsnConvert.parse(AsnConvert.parse(token, cms.ContentInfo).content, SignedDataIn);
      assert.equal(signedData.certificates?.length ?? 0, certReq ? 2 : 0);
      const ess = signedData.signerInfos[0]!.signedAttrs!.find((a) => a.attrType === id_aa_signingCertificateV2);
      assert.ok(ess, 'signing-certificate-v2 attribute present');
      const value = AsnConvert.parse(ess.attrValues[0]!, SigningCertificateV2);
      assert.deepEqual(Buffer.from(value.certs[0]!.certHash.buffer), expectedHash);
      assert.equal(value.certs[0]!.hashAlgorithm, undefined, 'SHA-256 is the DEFAULT, left out in DER');
    }
    // without the certificates in the token, the verifier needs the TSA's given
    const bare = tokenOf(tsa.respond(request({ certReq: false })));
    assert.equal((verifyTimestampToken(bare, DATA, [pki.root.cert]) as { reason: string }).reason, 'SIGNER');
    assert.ok(verifyTimestampToken(bare, DATA, [pki.root.cert], { intermediates: [pki.tsa.cert, pki.intermediate.cert] }).ok);
  });

  it('writes its replies in DER: the ASN.1 library reads them and writes back the same bytes, layer by layer', async () => {
    const pki = await tsaPki(T0);
    // Ed25519 as well as P-256: its own algorithm identifiers, a digest of SHA-512
    const ed = generateKeyPairSync('ed25519');
    const edTsa = await makeTsaCert(pki.intermediate, { key: { ...ed, spki: ed.publicKey.export({ format: 'der', type: 'spki' }) } });
    const signers = [
      { privateKey: pki.tsa.key.privateKey, chain: [pki.tsa.cert, pki.intermediate.cert] },
      { privateKey: ed.privateKey, chain: [edTsa.cert, pki.intermediate.cert] },
    ];
    const again = <T extends object>(der: Uint8Array, type: new () => T, what: string) =>
      assert.deepEqual(Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, type))), Buffer.from(der), what);
    for (const signer of signers) {
      // milliseconds 0, 120 and 123: GeneralizedTime without a fraction, and with one of two and of three digits
      for (const ms of [0, 120, 123]) {
        for (const accuracy of [undefined, { seconds: 1, millis: 500 }]) {
          const clock = new ManualClock(T0.getTime() + ms);
          const tsa = new TimestampAuthority({ signer, clock, ...(accuracy ? { accuracy } : {}) });
          for (const req of [
            request(),
            request({ nonce: Buffer.from('0a1b2c3d4e5f6071', 'hex'), certReq: true }),
            request({ nonce: Buffer.from('00ff', 'hex'), policy: tsa.policy }),
            request({ hash: '2.16.840.1.101.3.4.2.3', digest: createHash('sha512').update(DATA).digest(), certReq: true }),
          ]) {
            const what = `${signer.privateKey.asymmetricKeyType}, ${ms} ms, accuracy ${accuracy !== undefined}, request ${req.toString('hex')}`;
            const reply = tsa.respond(req);
            again(reply, tsp.TimeStampResp, `TimeStampResp: ${what}`);
            const token = tokenOf(reply);
            again(token, cms.ContentInfo, `ContentInfo: ${what}`);
            const content = new Uint8Array(AsnConvert.parse(token, cms.ContentInfo).content);
            again(content, cms.SignedData, `SignedData: ${what}`);
            // the round trip keeps the order of a SET OF as read: DER's order (by encoding) is checked here
            const signedData = AsnConvert.parse(content, cms.SignedData);
            for (const [set, members] of [
              ['signed attributes', signedData.signerInfos[0]!.signedAttrs ?? []],
              ['certificates', signedData.certificates ?? []],
            ] as const) {
              const encoded = Array.from(members as readonly object[], (m) => Buffer.from(AsnConvert.serialize(m)));
              assert.deepEqual(encoded, [...encoded].sort(Buffer.compare), `${set} in DER's order: ${what}`);
            }
            const { parts } = readToken(token) as { ok: true; parts: { tstInfoDer: Buffer; tstInfo: tsp.TSTInfo } };
            again(parts.tstInfoDer, tsp.TSTInfo, `TSTInfo: ${what}`);
            assert.equal(parts.tstInfo.genTime.getTime(), T0.getTime() + ms, what);
            assert.deepEqual(
              parts.tstInfo.accuracy && AsnConvert.serialize(parts.tstInfo.accuracy),
              accuracy && AsnConvert.serialize(new tsp.Accuracy(accuracy)),
            );
            const r = verifyTimestampToken(token, DATA, [pki.root.cert], { intermediates: signer.chain });
            assert.ok(r.ok, !r.ok ? `${what}: ${r.message}` : '');
          }
        }
      }
    }
  });

  it('accepts SHA-384 and SHA-512 message imprints', async () => {
    const pki = await tsaPki(T0);
    const tsa = pki.authority({ clock: new ManualClock(T0.getTime()) });
    for (const [oid, name] of [
      ['2.16.840.1.101.3.4.2.2', 'sha384'],
      ['2.16.840.1.101.3.4.2.3', 'sha512'],
    ] as const) {
      const token = tokenOf(tsa.respond(request({ hash: oid, digest: createHash(name).update(DATA).digest(), certReq: true })));
      const r = verifyTimestampToken(token, DATA, [pki.root.cert]);
      assert.ok(r.ok && r.hash === name, JSON.stringify(r));
    }
  });
});

describe('TimestampAuthority: rejections (PKIStatusInfo, never an exception)', () => {
  it('accepts a requested policy only when it is its own (unacceptedPolicy)', async () => {
    const pki = await tsaPki(T0);
    const tsa = pki.authority({ clock: new ManualClock(T0.getTime()), policy: '1.2.3.4.5' });
    tokenOf(tsa.respond(request({ policy: '1.2.3.4.5' })));
    assert.deepEqual(rejection(tsa.respond(request({ policy: '1.2.3.4.6' }))).failures, ['unacceptedPolicy']);
  });

  it('refuses SHA-1, MD5 and unknown hashes (badAlg) and an imprint of the wrong length (badDataFormat)', async () => {
    const pki = await tsaPki(T0);
    const tsa = pki.authority({ clock: new ManualClock(T0.getTime()) });
    for (const oid of ['1.3.14.3.2.26', '1.2.840.113549.2.5', '1.2.3.4']) {
      assert.deepEqual(rejection(tsa.respond(request({ hash: oid, digest: Buffer.alloc(20) }))).failures, ['badAlg']);
    }
    assert.deepEqual(rejection(tsa.respond(request({ digest: Buffer.alloc(31) }))).failures, ['badDataFormat']);
  });

  it('refuses bytes that are not a DER TimeStampReq (badDataFormat) and extensions it does not know (unacceptedExtension)', async () => {
    const pki = await tsaPki(T0);
    const tsa = pki.authority({ clock: new ManualClock(T0.getTime()) });
    const good = request();
    for (const bad of [Buffer.alloc(0), Buffer.from('hello'), good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])])]) {
      assert.deepEqual(rejection(tsa.respond(bad)).failures, ['badDataFormat']);
    }
    // certReq FALSE written out is BER, not DER (DER leaves a DEFAULT out)
    const parsed = asn1js.fromBER(good).result as asn1js.Sequence;
    parsed.valueBlock.value.push(new asn1js.Boolean({ value: false }));
    const withFalse = Buffer.from(parsed.toBER(false));
    assert.ok(AsnConvert.parse(withFalse, tsp.TimeStampReq), 'still a TimeStampReq to a BER reader');
    assert.deepEqual(rejection(tsa.respond(withFalse)).failures, ['badDataFormat']);
    const ext = new asn1.Extension({ extnID: '1.2.3.4.5', critical: false, extnValue: new OctetString(Buffer.from([5, 0])) });
    assert.deepEqual(rejection(tsa.respond(request({ extensions: [ext] }))).failures, ['unacceptedExtension']);
  });

  it('does not sign when its certificate does not cover the time (systemFailure)', async () => {
    const pki = await tsaPki(T0);
    const clock = new ManualClock(pki.tsa.cert.notAfter.getTime() + 1000);
    const r = rejection(pki.authority({ clock }).respond(request()));
    assert.deepEqual(r.failures, ['systemFailure']);
    assert.match(r.text, /not valid at/);
  });

  it('writes the failure bits where RFC 3161 numbers them', async () => {
    const pki = await tsaPki(T0);
    const reply = pki.authority({ clock: new ManualClock(T0.getTime()) }).respond(Buffer.from('x'));
    const info = statusOf(reply).failInfo!;
    // badDataFormat is bit 5: 0000 0100, two unused bits
    assert.deepEqual([info.unusedBits, Buffer.from(info.value).toString('hex')], [2, '04']);
    assert.equal(FAILURE_BITS.badDataFormat, 5);
  });
});

describe('TimestampAuthority: its certificate', () => {
  it('must have the extended key usage timeStamping alone, critical, and certify the key', async () => {
    const pki = await tsaPki(T0);
    const signerOf = (cert: { cert: unknown; key: { privateKey: unknown } }) =>
      ({ privateKey: cert.key.privateKey, chain: [cert.cert] }) as ConstructorParameters<typeof TimestampAuthority>[0]['signer'];
    const timeStamping = '1.3.6.1.5.5.7.3.8';
    const cases: [string, Parameters<typeof makeCert>[0], RegExp][] = [
      ['no EKU', {}, /no extended key usage/],
      ['not critical', { extKeyUsages: [timeStamping] }, /not critical/],
      ['another purpose too', { extKeyUsages: [timeStamping, '1.3.6.1.5.5.7.3.3'], extKeyUsageCritical: true }, /alone/],
      [
        'key usage keyCertSign',
        { extKeyUsages: [timeStamping], extKeyUsageCritical: true, keyUsages: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign },
        /key usage/,
      ],
    ];
    for (const [what, options, message] of cases) {
      const cert = await makeCert({ issuer: pki.intermediate, ...options });
      assert.throws(() => new TimestampAuthority({ signer: signerOf(cert) }), message, what);
    }
    const other = ecKey();
    assert.throws(
      () => new TimestampAuthority({ signer: { privateKey: other.privateKey, chain: [pki.tsa.cert] } }),
      /does not certify the TSA's key/,
    );
  });
});
