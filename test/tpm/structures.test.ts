import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TpmReader, TpmWriter } from '../../src/tpm/marshal.js';
import {
  parsePublic,
  publicBytes,
  readNvPublic,
  readPcrSelection,
  writeNvPublic,
  writePcrSelection,
  type TpmPublic,
} from '../../src/tpm/structures.js';
import { akTemplate } from '../../src/tpm/ak.js';
import { EK_POLICY, ekTemplate } from '../../src/tpm/ek.js';
import { objectAttributeNames, TPM_ALG, TPM_ECC } from '../../src/tpm/constants.js';
import { publicName } from '../../src/tpm/public-key.js';
import { EvidentError } from '../../src/errors.js';

const ECDAA_KEY: TpmPublic = {
  type: TPM_ALG.ECC,
  nameAlg: TPM_ALG.SHA384,
  objectAttributes: 0x00040072,
  authPolicy: Buffer.alloc(48, 7),
  symmetric: { algorithm: TPM_ALG.NULL, keyBits: 0, mode: 0 },
  scheme: { scheme: TPM_ALG.ECDAA, hashAlg: TPM_ALG.SHA256, count: 3 },
  curveId: TPM_ECC.NIST_P384,
  kdf: { scheme: 0x0020, hashAlg: TPM_ALG.SHA256 },
  x: Buffer.alloc(48, 1),
  y: Buffer.alloc(48, 2),
};

test('TPMT_PUBLIC round-trips for the EK and AK templates and other schemes', () => {
  for (const p of [ekTemplate('rsa'), ekTemplate('ecc'), akTemplate('rsa'), akTemplate('ecc'), ECDAA_KEY]) {
    const bytes = publicBytes(p);
    assert.deepEqual(parsePublic(bytes), p);
    assert.deepEqual(publicBytes(parsePublic(bytes)), bytes);
  }
});

test('the RSA EK template L-1 is the bytes of the TCG EK Credential Profile', () => {
  const expected =
    '0001' + // TPM_ALG_RSA
    '000b' + // nameAlg SHA-256
    '000300b2' + // fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt
    '0020' +
    EK_POLICY.toString('hex') +
    '0006' + // AES
    '0080' + // 128
    '0043' + // CFB
    '0010' + // scheme NULL
    '0800' + // 2048
    '00000000' + // default exponent
    '0100' +
    '00'.repeat(256);
  assert.equal(publicBytes(ekTemplate('rsa')).toString('hex'), expected);
  assert.deepEqual(objectAttributeNames(0x000300b2), [
    'fixedtpm',
    'fixedparent',
    'sensitivedataorigin',
    'adminwithpolicy',
    'restricted',
    'decrypt',
  ]);
});

test('the ECC EK template L-2 is the bytes of the TCG EK Credential Profile', () => {
  const expected =
    '0023' + // TPM_ALG_ECC
    '000b' +
    '000300b2' +
    '0020' +
    EK_POLICY.toString('hex') +
    '0006' +
    '0080' +
    '0043' +
    '0010' + // scheme NULL
    '0003' + // NIST P-256
    '0010' + // kdf NULL
    '0020' +
    '00'.repeat(32) +
    '0020' +
    '00'.repeat(32);
  assert.equal(publicBytes(ekTemplate('ecc')).toString('hex'), expected);
});

test('every truncation of a public area is refused with a one-line message naming the field', () => {
  for (const p of [ekTemplate('rsa'), ekTemplate('ecc'), akTemplate('rsa'), ECDAA_KEY]) {
    const bytes = publicBytes(p);
    for (let n = 0; n < bytes.length; n++) {
      assert.throws(
        () => parsePublic(bytes.subarray(0, n), 'EK public'),
        (e: EvidentError) =>
          e.code === 'BAD_INPUT' && /^EK public: truncated: [\w. ]+ needs \d+ bytes at offset \d+, \d+ left$/.test(e.message),
        `prefix of ${n} bytes`,
      );
    }
    assert.throws(() => parsePublic(Buffer.concat([bytes, Buffer.of(0)])), /1 unexpected bytes after the end/);
  }
});

test('a public area that is not an RSA or ECC key, or has an unknown scheme, is refused by name', () => {
  const keyedHash = Buffer.from(publicBytes(akTemplate('rsa')));
  keyedHash.writeUInt16BE(TPM_ALG.KEYEDHASH, 0);
  assert.throws(() => parsePublic(keyedHash), /TPMT_PUBLIC: public area of type 0x0008 is not an RSA or ECC key/);
  const unknownScheme = Buffer.from(publicBytes(akTemplate('rsa')));
  unknownScheme.writeUInt16BE(0x0099, 2 + 2 + 4 + 2 + 2);
  assert.throws(() => parsePublic(unknownScheme), /TPMT_PUBLIC: scheme: unknown scheme 0x0099/);
});

test('a name is the nameAlg and the digest of the marshalled public area', () => {
  const p = akTemplate('ecc');
  const name = publicName(p);
  assert.equal(name.length, 34);
  assert.equal(name.subarray(0, 2).toString('hex'), '000b');
  assert.deepEqual(publicName(publicBytes(p)), name);
  assert.equal(publicName(ECDAA_KEY).length, 2 + 48);
  assert.notDeepEqual(publicName({ ...p, objectAttributes: p.objectAttributes | 0x400 }), name);
});

test('TPML_PCR_SELECTION and TPMS_NV_PUBLIC round-trip', () => {
  const banks = [
    { hashAlg: TPM_ALG.SHA256, pcrs: [0, 7, 16, 23] },
    { hashAlg: TPM_ALG.SHA1, pcrs: [] },
  ];
  const w = new TpmWriter();
  writePcrSelection(w, banks);
  const b = w.toBuffer();
  assert.equal(b.toString('hex'), '00000002' + '000b' + '03' + '810081' + '0004' + '03' + '000000');
  assert.deepEqual(readPcrSelection(new TpmReader(b)), banks);
  const nv = { nvIndex: 0x01c00002, nameAlg: TPM_ALG.SHA256, attributes: 0x620f0003, authPolicy: Buffer.alloc(0), dataSize: 1200 };
  const nw = new TpmWriter();
  writeNvPublic(nw, nv);
  assert.deepEqual(readNvPublic(new TpmReader(nw.toBuffer())), nv);
});
