import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustDomain } from '../../src/spiffe/spiffeid/index.js';
import {
  BundleError,
  JwtBundle,
  JwtBundleSet,
  SpiffeBundle,
  X509Bundle,
  X509BundleSet,
  type BundleErrorReason,
} from '../../src/spiffe/bundle/index.js';
import { SpiffeError } from '../../src/spiffe/errors.js';
import { makeCa, type TestCa } from '../helpers/pki.js';

const td = TrustDomain.parse('example.org');

function isReason(reason: string, file?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SpiffeError, `expected a SpiffeError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    if (file !== undefined) assert.equal(e.file, file);
    return true;
  };
}
const bundleReason = (r: BundleErrorReason) => (e: unknown) => e instanceof BundleError && isReason(r)(e);

describe('X509Bundle', () => {
  let a: TestCa;
  let b: TestCa;
  let dir: string;
  before(async () => {
    a = await makeCa('example.org');
    b = await makeCa('example.org');
    dir = await mkdtemp(join(tmpdir(), 'evident-bundle-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('round-trips PEM and concatenated DER', () => {
    const bundle = X509Bundle.fromAuthorities(td, [a.cert, b.cert]);
    const pem = bundle.marshal();
    assert.equal((pem.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    assert.ok(X509Bundle.parse(td, pem).equals(bundle));
    assert.ok(X509Bundle.parse(td, bundle.marshalDer()).equals(bundle));
    assert.ok(bundle.hasAuthority(b.cert));
    assert.equal(X509Bundle.parse(td, Buffer.alloc(0)).authorities.length, 0);
  });

  it('rejects garbage and a non-certificate PEM block, naming the file', async () => {
    const path = join(dir, 'bad.pem');
    await writeFile(path, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    await assert.rejects(X509Bundle.load(td, path), isReason('BAD_CERTIFICATE', path));
    assert.throws(() => X509Bundle.parse(td, Buffer.from([0x30, 0x82, 0x01])), isReason('BAD_CERTIFICATE'));
  });

  it('is a source only for its own trust domain', () => {
    const bundle = X509Bundle.fromAuthorities(td, [a.cert]);
    assert.equal(bundle.getX509BundleForTrustDomain(TrustDomain.parse('example.org')), bundle);
    assert.throws(() => bundle.getX509BundleForTrustDomain(TrustDomain.parse('other.org')), bundleReason('NOT_FOUND'));
  });
});

describe('JwtBundle', () => {
  const k1 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const k2 = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('round-trips a JWKS whose keys all have a kid', () => {
    const bundle = JwtBundle.fromAuthorities(td, { a: k1.publicKey, b: k2.publicKey });
    const doc = JSON.parse(bundle.marshal()) as { keys: { kid: string; kty: string }[] };
    assert.deepEqual(
      doc.keys.map((k) => [k.kid, k.kty]),
      [
        ['a', 'EC'],
        ['b', 'RSA'],
      ],
    );
    const back = JwtBundle.parse(td, bundle.marshal());
    assert.deepEqual([...back.authorities.keys()], ['a', 'b']);
    assert.ok(back.findAuthority('a')?.equals(k1.publicKey));
  });

  it('rejects a bad JWK clearly', () => {
    const good = k1.publicKey.export({ format: 'jwk' });
    const cases: [unknown, BundleErrorReason, RegExp][] = [
      [{ keys: [{ ...good }] }, 'MISSING_KID', /key #0: missing key ID/],
      [
        {
          keys: [
            { ...good, kid: 'a' },
            { ...good, kid: 'a' },
          ],
        },
        'DUPLICATE_KID',
        /duplicate key ID "a"/,
      ],
      [{ keys: [{ ...good, kid: 'a', x: 'AAAA' }] }, 'BAD_JWK', /key #0: not a valid public key/],
      [{ keys: [{ kid: 'a', kty: 'EC', crv: 'P-256' }] }, 'BAD_JWK', /key #0: not a valid public key/],
      [{ keys: [{ kid: 'a' }] }, 'BAD_JWK', /missing "kty"/],
      [{ keys: [{ kid: 'a', kty: 'oct', k: 'c2VjcmV0' }] }, 'BAD_JWK', /symmetric/],
      [{ keys: [{ ...(k1.privateKey.export({ format: 'jwk' }) as object), kid: 'a' }] }, 'BAD_JWK', /private key material/],
      [{ keys: ['nope'] }, 'MISSING_KID', /missing key ID/],
      [{ nokeys: [] }, 'BAD_JWKS', /missing "keys"/],
    ];
    for (const [doc, reason, message] of cases) {
      assert.throws(
        () => JwtBundle.parse(td, JSON.stringify(doc)),
        (e: unknown) => bundleReason(reason)(e) && message.test((e as Error).message) && /^jwtbundle: /.test((e as Error).message),
      );
    }
    assert.throws(() => JwtBundle.parse(td, '{not json'), bundleReason('BAD_JWKS'));
  });
});

describe('SpiffeBundle (SPIFFE bundle format)', () => {
  let ca: TestCa;
  const jwtKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  before(async () => {
    ca = await makeCa('example.org');
  });

  it('round-trips x509-svid and jwt-svid keys with sequence and refresh hint', () => {
    const bundle = SpiffeBundle.create(td, {
      x509Authorities: [ca.cert],
      jwtAuthorities: new Map([['j1', jwtKey.publicKey]]),
      sequenceNumber: 7,
      refreshHint: 300,
    });
    const doc = JSON.parse(bundle.marshal()) as { keys: Record<string, unknown>[]; spiffe_sequence: number; spiffe_refresh_hint: number };
    assert.equal(doc.spiffe_sequence, 7);
    assert.equal(doc.spiffe_refresh_hint, 300);
    assert.equal(doc.keys[0]?.['use'], 'x509-svid');
    assert.equal((doc.keys[0]?.['x5c'] as string[])[0], Buffer.from(ca.cert.rawData).toString('base64'));
    assert.equal(doc.keys[1]?.['use'], 'jwt-svid');
    assert.equal(doc.keys[1]?.['kid'], 'j1');
    const back = SpiffeBundle.parse(td, bundle.marshal());
    assert.equal(back.sequenceNumber, 7);
    assert.equal(back.refreshHint, 300);
    assert.ok(back.toX509Bundle().equals(ca.bundle));
    assert.ok(back.toJwtBundle().findAuthority('j1')?.equals(jwtKey.publicKey));
    assert.equal(back.getX509BundleForTrustDomain(td).authorities.length, 1);
  });

  it('ignores keys with a missing or unknown use, as the standard requires', () => {
    const jwk = jwtKey.publicKey.export({ format: 'jwk' });
    const b = SpiffeBundle.parse(
      td,
      JSON.stringify({
        keys: [
          { ...jwk, kid: 'x' },
          { ...jwk, kid: 'y', use: 'sig' },
        ],
      }),
    );
    assert.equal(b.jwtAuthorities.size, 0);
    assert.equal(b.x509Authorities.length, 0);
  });

  it('rejects a malformed x509-svid key, a bad JWK, bad numbers', () => {
    const certB64 = Buffer.from(ca.cert.rawData).toString('base64');
    const certJwk = { ...(ca.key.publicKey.export({ format: 'jwk' }) as object), use: 'x509-svid' };
    const otherJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const cases: [unknown, BundleErrorReason][] = [
      [{ keys: [{ ...certJwk, x5c: [certB64, certB64] }] }, 'BAD_X5C'],
      [{ keys: [{ ...certJwk }] }, 'BAD_X5C'],
      [{ keys: [{ ...certJwk, x5c: ['AAAA'] }] }, 'BAD_X5C'],
      [{ keys: [{ ...otherJwk, use: 'x509-svid', x5c: [certB64] }] }, 'BAD_JWK'],
      [{ keys: [{ kty: 'EC', use: 'jwt-svid', kid: 'k', crv: 'P-256', x: 'AA', y: 'AA' }] }, 'BAD_JWK'],
      [{ keys: [{ ...otherJwk, use: 'jwt-svid' }] }, 'MISSING_KID'],
      [{ keys: [], spiffe_sequence: -1 }, 'BAD_SEQUENCE'],
      [{ keys: [], spiffe_refresh_hint: '5m' }, 'BAD_REFRESH_HINT'],
      [[], 'BAD_JWKS'],
    ];
    for (const [doc, reason] of cases)
      assert.throws(() => SpiffeBundle.parse(td, JSON.stringify(doc)), bundleReason(reason), JSON.stringify(doc).slice(0, 80));
  });
});

describe('bundle sets', () => {
  it('are keyed by trust domain; a missing one is NOT_FOUND', async () => {
    const a = await makeCa('a.org');
    const b = await makeCa('b.org');
    const set = X509BundleSet.of([a.bundle]).with(b.bundle);
    assert.equal(set.size, 2);
    assert.equal(set.getX509BundleForTrustDomain(TrustDomain.parse('b.org')), b.bundle);
    assert.deepEqual(
      set.bundles().map((x) => x.trustDomain.name),
      ['a.org', 'b.org'],
    );
    assert.throws(() => set.getX509BundleForTrustDomain(TrustDomain.parse('c.org')), bundleReason('NOT_FOUND'));
    const jwt = JwtBundleSet.of([JwtBundle.fromAuthorities(a.td, {})]);
    assert.ok(jwt.has(a.td));
    assert.throws(() => jwt.getJwtBundleForTrustDomain(b.td), bundleReason('NOT_FOUND'));
  });
});
