// The CA's fast key check (src/crypto/spki.ts) against node:crypto (OpenSSL), which it stands in for.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { canonicalSpki, checkEcSpki } from '../../src/crypto/spki.js';

const spki = (curve: string) => generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'der', type: 'spki' });

/** What OpenSSL says of the bytes: a key whose canonical SPKI is exactly them, or not. */
function openSslAccepts(der: Buffer): boolean {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' }).equals(der);
  } catch {
    return false;
  }
}

describe('checkEcSpki', () => {
  it('accepts canonical P-256 and P-384 keys, as OpenSSL does', () => {
    for (const curve of ['P-256', 'P-384']) for (let i = 0; i < 20; i++) assert.equal(checkEcSpki(spki(curve)), 'valid', curve);
  });

  it('refuses a point off its curve or out of range, which OpenSSL refuses too', () => {
    for (const curve of ['P-256', 'P-384']) {
      const der = spki(curve);
      const off = Buffer.from(der);
      off[off.length - 1]! ^= 1; // y changed: no longer on the curve
      assert.equal(checkEcSpki(off), 'invalid');
      assert.equal(openSslAccepts(off), false);
      const huge = Buffer.from(der);
      huge.fill(0xff, huge.length - (curve === 'P-256' ? 64 : 96));
      assert.equal(checkEcSpki(huge), 'invalid');
      assert.equal(openSslAccepts(huge), false);
    }
  });

  it('leaves every other form to node:crypto: RSA, Ed25519, P-521, compressed points, other lengths', () => {
    assert.equal(
      checkEcSpki(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' })),
      'other',
    );
    assert.equal(checkEcSpki(generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' })), 'other');
    assert.equal(checkEcSpki(spki('P-521')), 'other');
    const compressed = Buffer.from(spki('P-256'));
    compressed[26] = 0x02;
    assert.equal(checkEcSpki(compressed), 'other');
    assert.equal(checkEcSpki(spki('P-256').subarray(0, 90)), 'other');
    assert.equal(checkEcSpki(Buffer.alloc(0)), 'other');
  });

  it('never calls valid what OpenSSL refuses, over 20 000 single-byte mutations', () => {
    const base = spki('P-256');
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      const m = Buffer.from(base);
      m[i % m.length] = (i * 7919) & 0xff;
      if (checkEcSpki(m) !== 'valid') continue;
      valid++;
      assert.equal(openSslAccepts(m), true, m.toString('hex'));
    }
    assert.ok(valid > 0);
  });

  it('canonicalSpki: the common form as sent, others through node:crypto as DER, a bad key an error', () => {
    const p256 = spki('P-256');
    assert.deepEqual(canonicalSpki(p256), p256);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' });
    assert.deepEqual(canonicalSpki(rsa), rsa);
    const off = Buffer.from(p256);
    off[off.length - 1]! ^= 1;
    assert.throws(() => canonicalSpki(off), /not on its curve/);
    assert.throws(() => canonicalSpki(Buffer.from('nope')));
  });
});
