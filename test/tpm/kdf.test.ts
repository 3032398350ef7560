/**
 * KDFa and KDFe against OpenSSL's implementations of the same NIST constructions (SP 800-108 counter mode
 * with HMAC: `openssl kdf KBKDF`, whose salt is the label and info the context, with the 0x00 separator
 * and the length; SP 800-56C's one-step hash KDF: `openssl kdf SSKDF`), an independent check of the
 * byte layout, block counting and truncation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from '../helpers/child-process.js';
import { kdfa, kdfe } from '../../src/tpm/kdf.js';
import { TPM_ALG } from '../../src/tpm/constants.js';

function openssl(args: string[]): Buffer {
  return Buffer.from(
    execFileSync('openssl', ['kdf', ...args], { encoding: 'utf8' })
      .trim()
      .replaceAll(':', ''),
    'hex',
  );
}

const KEY = Buffer.from('4e1d2b7f0c9a8e6d5c4b3a29180706f5e4d3c2b1a0918273645566778899aabb', 'hex');
const NAME = Buffer.from('000b' + 'ab'.repeat(32), 'hex');

test('KDFa is SP 800-108 counter-mode HMAC with label, 0x00, contexts and the bit length', () => {
  for (const [hash, alg, bytes] of [
    ['SHA256', TPM_ALG.SHA256, 16],
    ['SHA256', TPM_ALG.SHA256, 32],
    ['SHA256', TPM_ALG.SHA256, 80],
    ['SHA384', TPM_ALG.SHA384, 100],
  ] as const) {
    const ours = kdfa(alg, KEY, 'STORAGE', NAME, Buffer.alloc(0), bytes * 8);
    const theirs = openssl([
      '-keylen',
      `${bytes}`,
      '-kdfopt',
      'mac:HMAC',
      '-kdfopt',
      `digest:${hash}`,
      '-kdfopt',
      `hexkey:${KEY.toString('hex')}`,
      '-kdfopt',
      `hexsalt:${Buffer.from('STORAGE').toString('hex')}`,
      '-kdfopt',
      `hexinfo:${NAME.toString('hex')}`,
      'KBKDF',
    ]);
    assert.equal(ours.toString('hex'), theirs.toString('hex'), `${hash} ${bytes}`);
  }
  // contextU and contextV are concatenated; a label given with its 0x00 is not terminated twice
  assert.deepEqual(
    kdfa(TPM_ALG.SHA256, KEY, 'X', NAME.subarray(0, 5), NAME.subarray(5), 256),
    kdfa(TPM_ALG.SHA256, KEY, 'X\0', NAME, Buffer.alloc(0), 256),
  );
  assert.notDeepEqual(
    kdfa(TPM_ALG.SHA256, KEY, 'INTEGRITY', Buffer.alloc(0), Buffer.alloc(0), 256),
    kdfa(TPM_ALG.SHA256, KEY, 'STORAGE', Buffer.alloc(0), Buffer.alloc(0), 256),
  );
});

test('KDFe is the one-step hash KDF over Z and use, 0x00, partyUInfo, partyVInfo', () => {
  const z = Buffer.alloc(32, 0x5a);
  const u = Buffer.alloc(32, 0x11);
  const v = Buffer.alloc(32, 0x22);
  for (const bytes of [32, 70]) {
    const ours = kdfe(TPM_ALG.SHA256, z, 'IDENTITY', u, v, bytes * 8);
    const info = Buffer.concat([Buffer.from('IDENTITY\0'), u, v]);
    const theirs = openssl([
      '-keylen',
      `${bytes}`,
      '-kdfopt',
      'digest:SHA256',
      '-kdfopt',
      `hexkey:${z.toString('hex')}`,
      '-kdfopt',
      `hexinfo:${info.toString('hex')}`,
      'SSKDF',
    ]);
    assert.equal(ours.toString('hex'), theirs.toString('hex'), `${bytes}`);
  }
});

test('a KDF output that is not whole bytes is refused', () => {
  assert.throws(
    () => kdfa(TPM_ALG.SHA256, KEY, 'STORAGE', NAME, Buffer.alloc(0), 12),
    /KDF output of 12 bits is not a whole number of bytes/,
  );
});
