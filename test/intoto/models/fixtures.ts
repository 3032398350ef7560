/** A valid layout and link to start each bad-input test from (each test breaks one thing). */
import { generatePrivateKey } from '../../../src/crypto/key-files.js';
import type { PrivateKey } from '../../../src/crypto/keys.js';
import type { Layout, Link } from '../../../src/intoto/models/types.js';

export const alice: PrivateKey = generatePrivateKey('ed25519');
export const bob: PrivateKey = generatePrivateKey('ecdsa');

export function validLayout(): Layout {
  return {
    _type: 'layout',
    expires: '2030-01-01T00:00:00Z',
    readme: 'demo',
    keys: { [alice.keyid]: alice.publicKey.toDict(), [bob.keyid]: bob.publicKey.toDict() },
    steps: [
      {
        _type: 'step',
        name: 'code',
        threshold: 1,
        pubkeys: [alice.keyid],
        expected_command: [],
        expected_materials: [],
        expected_products: [
          ['CREATE', 'src/*'],
          ['DISALLOW', '*'],
        ],
      },
      {
        _type: 'step',
        name: 'build',
        threshold: 1,
        pubkeys: [bob.keyid],
        expected_command: ['cc', '-o', 'hello', 'src/hello.c'],
        expected_materials: [
          ['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'code'],
          ['DISALLOW', '*'],
        ],
        expected_products: [
          ['CREATE', 'hello'],
          ['DISALLOW', '*'],
        ],
      },
    ],
    inspect: [{ _type: 'inspection', name: 'check', run: ['true'], expected_materials: [], expected_products: [] }],
  };
}

export function validLink(): Link {
  return {
    _type: 'link',
    name: 'build',
    command: ['cc', '-o', 'hello', 'src/hello.c'],
    materials: { 'src/hello.c': { sha256: 'ab'.repeat(32) } },
    products: { hello: { sha256: 'cd'.repeat(32) } },
    byproducts: { 'return-value': 0, stdout: '', stderr: '' },
    environment: {},
  };
}

/** A deep copy as plain JSON, to break. */
export function json<T>(value: T): Record<string, unknown> & T {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown> & T;
}

/**
 * Plain JSON that a test reaches into to break one field (`l.steps[1].threshold = 0`): the one place a
 * loose type is the point.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;
