// The TPM attestation payload and challenge as both sides read them: what the agent writes the server
// reads back, and what is not one is refused naming the field (never a stack trace, never read past).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseTpmChallenge, parseTpmPayload, tpmChallenge, tpmPayload } from '../../../src/identity/common/tpm.js';
import { EvidentError } from '../../../src/errors.js';

const badInput = (pattern: RegExp) => (e: unknown) => e instanceof EvidentError && e.code === 'BAD_INPUT' && pattern.test(e.message);

describe('TPM attestation payload', () => {
  it('round-trips, with and without the EK certificate', () => {
    const p = { ekPublic: randomBytes(280), akPublic: randomBytes(88), ekCertificate: randomBytes(1200) };
    assert.deepEqual(parseTpmPayload(tpmPayload(p)), p);
    const noCert = { ekPublic: p.ekPublic, akPublic: p.akPublic };
    assert.deepEqual(parseTpmPayload(tpmPayload(noCert)), noCert);
    assert.doesNotMatch(tpmPayload(noCert).toString(), /ek_certificate/);
  });

  it('refuses what is not one, naming the field', () => {
    const json = (o: unknown) => Buffer.from(JSON.stringify(o));
    assert.throws(() => parseTpmPayload(Buffer.from('{')), badInput(/JSON/));
    assert.throws(() => parseTpmPayload(json([1])), badInput(/not a JSON object/));
    assert.throws(() => parseTpmPayload(json({ ak_public: 'AAAA' })), badInput(/ek_public is missing/));
    assert.throws(() => parseTpmPayload(json({ ek_public: 'AAAA' })), badInput(/ak_public is missing/));
    assert.throws(() => parseTpmPayload(json({ ek_public: 'AA!A', ak_public: 'AAAA' })), badInput(/ek_public is not a base64 string/));
    assert.throws(() => parseTpmPayload(json({ ek_public: 7, ak_public: 'AAAA' })), badInput(/ek_public is not a base64 string/));
    assert.throws(() => parseTpmPayload(json({ ek_public: '', ak_public: 'AAAA' })), badInput(/ek_public is empty/));
    const big = randomBytes(1025).toString('base64');
    assert.throws(
      () => parseTpmPayload(json({ ek_public: 'AAAA', ak_public: big })),
      badInput(/ak_public has 1025 bytes, more than the 1024/),
    );
    const cert = randomBytes(16 * 1024 + 1).toString('base64');
    assert.throws(
      () => parseTpmPayload(json({ ek_public: 'AAAA', ak_public: 'AAAA', ek_certificate: cert })),
      badInput(/ek_certificate has/),
    );
  });
});

describe('TPM attestation challenge', () => {
  it('round-trips a credential; a cut or padded one is refused', () => {
    const c = { idObject: randomBytes(66), encryptedSecret: randomBytes(256) };
    const bytes = tpmChallenge(c);
    assert.deepEqual(parseTpmChallenge(bytes), c);
    assert.throws(() => parseTpmChallenge(bytes.subarray(0, bytes.length - 1)), badInput(/truncated: TPM2B_ENCRYPTED_SECRET/));
    assert.throws(() => parseTpmChallenge(Buffer.concat([bytes, Buffer.of(0)])), badInput(/1 unexpected bytes after the end/));
    assert.throws(() => parseTpmChallenge(Buffer.alloc(1)), badInput(/truncated/));
  });
});
