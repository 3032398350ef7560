import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { SpiffeId, TrustDomain } from '../../src/spiffe/spiffeid/index.js';
import { JwtSvid, JwtSvidError, signJwtSvid, type JwtSvidErrorReason } from '../../src/spiffe/jwtsvid/index.js';
import { JwtBundle, JwtBundleSet } from '../../src/spiffe/bundle/index.js';
import { exitCodeFor } from '../../src/errors.js';

const td = TrustDomain.parse('example.org');
const id = SpiffeId.parse('spiffe://example.org/ci/builder');
const AUD = 'spiffe://example.org/api';
const NOW = new Date('2026-03-01T00:00:00Z');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const bundles = JwtBundleSet.of([
  JwtBundle.fromAuthorities(td, { ec1: ec.publicKey, rsa1: rsa.publicKey }),
  JwtBundle.fromAuthorities(TrustDomain.parse('other.org'), { other1: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey }),
]);

function isReason(reason: JwtSvidErrorReason) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof JwtSvidError, `expected JwtSvidError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, /^jwtsvid: /);
    return true;
  };
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const exp = Math.floor(NOW.getTime() / 1000) + 300;

describe('jwtsvid: sign and validate', () => {
  for (const [alg, key, kid] of [
    ['ES256', ec.privateKey, 'ec1'],
    ['RS256', rsa.privateKey, 'rsa1'],
    ['RS512', rsa.privateKey, 'rsa1'],
    ['PS256', rsa.privateKey, 'rsa1'],
  ] as const) {
    it(`accepts a good ${alg} token`, async () => {
      const token = await signJwtSvid({ id, audience: [AUD, 'other'], key, kid, alg, now: NOW, ttlSeconds: 300, claims: { extra: 1 } });
      const svid = await JwtSvid.parseAndValidate(token, bundles, AUD, { now: NOW });
      assert.equal(svid.id.toString(), id.toString());
      assert.deepEqual(svid.audience, [AUD, 'other']);
      assert.equal(svid.expiry.getTime(), NOW.getTime() + 300_000);
      assert.equal(svid.claims['extra'], 1);
      assert.equal(svid.marshal(), token);
    });
  }

  it('rejects alg none', async () => {
    const token = `${b64({ alg: 'none', kid: 'ec1', typ: 'JWT' })}.${b64({ sub: id.toString(), aud: AUD, exp })}.`;
    await assert.rejects(JwtSvid.parseAndValidate(token, bundles, AUD, { now: NOW }), isReason('UNSUPPORTED_ALG'));
  });

  it('rejects HS256 even when the bundle key would be used as the secret', async () => {
    const secret = createSecretKey(randomBytes(32));
    const token = await new SignJWT({ sub: id.toString(), aud: AUD, exp }).setProtectedHeader({ alg: 'HS256', kid: 'ec1' }).sign(secret);
    await assert.rejects(JwtSvid.parseAndValidate(token, bundles, AUD, { now: NOW }), isReason('UNSUPPORTED_ALG'));
  });

  it('rejects a wrong audience (exit 1)', async () => {
    const token = await signJwtSvid({ id, audience: 'spiffe://example.org/somebody-else', key: ec.privateKey, kid: 'ec1', now: NOW });
    await assert.rejects(
      JwtSvid.parseAndValidate(token, bundles, AUD, { now: NOW }),
      (e: unknown) => isReason('AUDIENCE_MISMATCH')(e) && exitCodeFor((e as JwtSvidError).code) === 1,
    );
    // every expected audience must be present
    const two = await signJwtSvid({ id, audience: AUD, key: ec.privateKey, kid: 'ec1', now: NOW });
    await assert.rejects(JwtSvid.parseAndValidate(two, bundles, [AUD, 'x'], { now: NOW }), isReason('AUDIENCE_MISMATCH'));
  });

  it('rejects an expired token with a frozen clock, honouring leeway', async () => {
    const token = await signJwtSvid({ id, audience: AUD, key: ec.privateKey, kid: 'ec1', now: NOW, ttlSeconds: 60 });
    const later = new Date(NOW.getTime() + 61_000);
    await assert.rejects(JwtSvid.parseAndValidate(token, bundles, AUD, { now: () => later }), isReason('EXPIRED'));
    assert.ok(await JwtSvid.parseAndValidate(token, bundles, AUD, { now: later, leewaySeconds: 5 }));
  });

  it('rejects a token without exp', async () => {
    const token = await new SignJWT({ sub: id.toString(), aud: AUD }).setProtectedHeader({ alg: 'ES256', kid: 'ec1' }).sign(ec.privateKey);
    await assert.rejects(JwtSvid.parseAndValidate(token, bundles, AUD, { now: NOW }), isReason('MISSING_EXP'));
  });

  it('rejects a token without aud', async () => {
    const token = await new SignJWT({ sub: id.toString(), exp }).setProtectedHeader({ alg: 'ES256', kid: 'ec1' }).sign(ec.privateKey);
    await assert.rejects(JwtSvid.parseAndValidate(token, bundles, AUD, { now: NOW }), isReason('MISSING_AUDIENCE'));
  });

  it('rejects an unknown kid and a missing kid', async () => {
    const unknown = await signJwtSvid({ id, audience: AUD, key: ec.privateKey, kid: 'nope', now: NOW });
    await assert.rejects(JwtSvid.parseAndValidate(unknown, bundles, AUD, { now: NOW }), isReason('UNKNOWN_KID'));
    const none = await new SignJWT({ sub: id.toString(), aud: AUD, exp }).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey);
    await assert.rejects(JwtSvid.parseAndValidate(none, bundles, AUD, { now: NOW }), isReason('MISSING_KID'));
  });

  it("looks the kid up only in the bundle of the sub's trust domain", async () => {
    const foreign = await signJwtSvid({
      id: SpiffeId.parse('spiffe://other.org/x'),
      audience: AUD,
      key: ec.privateKey,
      kid: 'ec1',
      now: NOW,
    });
    await assert.rejects(JwtSvid.parseAndValidate(foreign, bundles, AUD, { now: NOW }), isReason('UNKNOWN_KID'));
    const nobody = await signJwtSvid({
      id: SpiffeId.parse('spiffe://nobody.org/x'),
      audience: AUD,
      key: ec.privateKey,
      kid: 'ec1',
      now: NOW,
    });
    await assert.rejects(JwtSvid.parseAndValidate(nobody, bundles, AUD, { now: NOW }), isReason('NO_BUNDLE'));
  });

  it('rejects a sub that is not a SPIFFE ID, and a missing sub', async () => {
    const bad = await new SignJWT({ sub: 'https://example.org/x', aud: AUD, exp })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec1' })
      .sign(ec.privateKey);
    await assert.rejects(JwtSvid.parseAndValidate(bad, bundles, AUD, { now: NOW }), isReason('BAD_SUBJECT'));
    const missing = await new SignJWT({ aud: AUD, exp }).setProtectedHeader({ alg: 'ES256', kid: 'ec1' }).sign(ec.privateKey);
    await assert.rejects(JwtSvid.parseAndValidate(missing, bundles, AUD, { now: NOW }), isReason('MISSING_SUB'));
  });

  it('rejects a typ other than JWT or JOSE, accepts JOSE', async () => {
    const bad = await new SignJWT({ sub: id.toString(), aud: AUD, exp })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec1', typ: 'at+jwt' })
      .sign(ec.privateKey);
    await assert.rejects(JwtSvid.parseAndValidate(bad, bundles, AUD, { now: NOW }), isReason('BAD_TYP'));
    const jose = await signJwtSvid({ id, audience: AUD, key: ec.privateKey, kid: 'ec1', now: NOW, typ: 'JOSE' });
    assert.ok(await JwtSvid.parseAndValidate(jose, bundles, AUD, { now: NOW }));
  });

  it('rejects a bad signature: tampered payload, wrong key, alg not matching the key', async () => {
    const token = await signJwtSvid({ id, audience: AUD, key: ec.privateKey, kid: 'ec1', now: NOW });
    const [h, , s] = token.split('.');
    const tampered = `${h}.${b64({ sub: 'spiffe://example.org/admin', aud: AUD, exp })}.${s}`;
    await assert.rejects(JwtSvid.parseAndValidate(tampered, bundles, AUD, { now: NOW }), isReason('BAD_SIGNATURE'));
    const wrongKey = await signJwtSvid({ id, audience: AUD, key: rsa.privateKey, kid: 'ec1', now: NOW });
    await assert.rejects(JwtSvid.parseAndValidate(wrongKey, bundles, AUD, { now: NOW }), isReason('BAD_SIGNATURE'));
  });

  it('rejects garbage', async () => {
    await assert.rejects(JwtSvid.parseAndValidate('not.a.jwt', bundles, AUD), isReason('MALFORMED'));
    await assert.rejects(JwtSvid.parseAndValidate('', bundles, AUD), isReason('MALFORMED'));
  });

  it('signJwtSvid refuses what validators would refuse', async () => {
    await assert.rejects(signJwtSvid({ id, audience: [], key: ec.privateKey, kid: 'ec1' }), isReason('MISSING_AUDIENCE'));
    await assert.rejects(signJwtSvid({ id, audience: AUD, key: ec.privateKey, kid: '' }), isReason('MISSING_KID'));
    await assert.rejects(signJwtSvid({ id, audience: AUD, key: ec.publicKey, kid: 'k' }), isReason('BAD_KEY'));
    const ed = generateKeyPairSync('ed25519');
    await assert.rejects(signJwtSvid({ id, audience: AUD, key: ed.privateKey, kid: 'k' }), isReason('BAD_KEY'));
  });

  it('parseInsecure checks claims but not the signature', async () => {
    const token = await signJwtSvid({ id, audience: AUD, key: ec.privateKey, kid: 'unknown-anywhere', now: NOW });
    assert.equal(JwtSvid.parseInsecure(token, AUD, { now: NOW, hint: 'internal' }).hint, 'internal');
    assert.throws(() => JwtSvid.parseInsecure(token, 'x', { now: NOW }), isReason('AUDIENCE_MISMATCH'));
  });
});
