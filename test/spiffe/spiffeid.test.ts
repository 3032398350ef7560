import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  SpiffeId,
  SpiffeIdError,
  TrustDomain,
  matchAny,
  matchId,
  matchMemberOf,
  matchOneOf,
  matches,
  type SpiffeIdErrorReason,
} from '../../src/spiffe/spiffeid/index.js';
import { exitCodeFor } from '../../src/errors.js';

function rejects(input: string, reason: SpiffeIdErrorReason, parse: (s: string) => unknown = SpiffeId.parse): void {
  assert.throws(
    () => parse(input),
    (e: unknown) => {
      assert.ok(e instanceof SpiffeIdError, `expected SpiffeIdError for ${JSON.stringify(input)}`);
      assert.equal(e.reason, reason, `${JSON.stringify(input)}: ${e.message}`);
      assert.match(e.message, /^spiffeid: /);
      assert.equal(e.code, 'BAD_INPUT');
      return true;
    },
  );
}

describe('SpiffeId.parse: valid IDs (SPIFFE-ID §2)', () => {
  const valid: [string, string, string][] = [
    ['spiffe://example.org', 'example.org', ''],
    ['spiffe://example.org/workload', 'example.org', '/workload'],
    ['spiffe://staging.example.com/payments/mysql', 'staging.example.com', '/payments/mysql'],
    ['spiffe://k8s-west.example.com/ns/staging/sa/default', 'k8s-west.example.com', '/ns/staging/sa/default'],
    ['spiffe://example.org/9eebccd2-12bf-40a6-b262-65fe0487d453', 'example.org', '/9eebccd2-12bf-40a6-b262-65fe0487d453'],
    ['spiffe://trust_domain_name.example.com/A.b-C_d', 'trust_domain_name.example.com', '/A.b-C_d'],
    ['spiffe://192.168.1.1/ip-looking-td', '192.168.1.1', '/ip-looking-td'],
    ['spiffe://example.org/...', 'example.org', '/...'],
    ['spiffe://example.org/.hidden/x..y', 'example.org', '/.hidden/x..y'],
  ];
  for (const [s, td, path] of valid) {
    it(`accepts ${s}`, () => {
      const id = SpiffeId.parse(s);
      assert.equal(id.trustDomain.name, td);
      assert.equal(id.path, path);
      assert.equal(id.toString(), s);
    });
  }

  it('accepts every allowed character of the trust domain and the path', () => {
    const td = 'abcdefghijklmnopqrstuvwxyz0123456789.-_';
    const seg = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_';
    assert.equal(SpiffeId.parse(`spiffe://${td}/${seg}`).path, `/${seg}`);
  });

  it('accepts exactly 2048 bytes and a 255-byte trust domain', () => {
    const td = 'a'.repeat(255);
    const prefix = `spiffe://${td}/`;
    const id = prefix + 'b'.repeat(2048 - prefix.length);
    assert.equal(id.length, 2048);
    assert.equal(SpiffeId.parse(id).toString(), id);
  });
});

describe('SpiffeId.parse: every rule broken (SPIFFE-ID §2)', () => {
  const invalid: [string, SpiffeIdErrorReason, string][] = [
    ['', 'EMPTY', 'empty string'],
    ['example.org/workload', 'WRONG_SCHEME', 'no scheme'],
    ['https://example.org/workload', 'WRONG_SCHEME', 'another scheme'],
    ['SPIFFE://example.org/workload', 'WRONG_SCHEME', 'scheme not in the lowercase normal form'],
    ['spiffe:/example.org/workload', 'WRONG_SCHEME', 'one slash after the scheme'],
    ['spiffe:example.org', 'WRONG_SCHEME', 'no authority'],
    ['spiffe://', 'MISSING_TRUST_DOMAIN', 'no trust domain'],
    ['spiffe:///path', 'MISSING_TRUST_DOMAIN', 'empty trust domain with a path'],
    ['spiffe://Example.org/workload', 'BAD_TRUST_DOMAIN_CHAR', 'uppercase trust domain'],
    ['spiffe://exa$mple.org', 'BAD_TRUST_DOMAIN_CHAR', 'symbol in the trust domain'],
    ['spiffe://exämple.org', 'BAD_TRUST_DOMAIN_CHAR', 'non-ASCII trust domain'],
    ['spiffe://[::1]/workload', 'PORT', 'IPv6 literal (its colons)'],
    ['spiffe://user@example.org/workload', 'USERINFO', 'userinfo'],
    ['spiffe://user:pass@example.org/workload', 'USERINFO', 'userinfo with password'],
    ['spiffe://example.org:8080/workload', 'PORT', 'port'],
    ['spiffe://example.org:/workload', 'PORT', 'empty port after the delimiter'],
    ['spiffe://example.org/workload?x=1', 'QUERY', 'query'],
    ['spiffe://example.org?x=1', 'QUERY', 'query without a path'],
    ['spiffe://example.org/workload#frag', 'FRAGMENT', 'fragment'],
    ['spiffe://example.org/work%20load', 'PERCENT_ENCODED', 'percent-encoded path'],
    ['spiffe://ex%41mple.org/workload', 'PERCENT_ENCODED', 'percent-encoded trust domain'],
    ['spiffe://example.org/', 'TRAILING_SLASH', 'trailing slash on the root'],
    ['spiffe://example.org/workload/', 'TRAILING_SLASH', 'trailing slash'],
    ['spiffe://example.org//workload', 'EMPTY_SEGMENT', 'empty segment'],
    ['spiffe://example.org/a//b', 'EMPTY_SEGMENT', 'empty segment in the middle'],
    ['spiffe://example.org/.', 'DOT_SEGMENT', 'dot segment'],
    ['spiffe://example.org/a/../b', 'DOT_SEGMENT', 'dot-dot segment'],
    ['spiffe://example.org/..', 'DOT_SEGMENT', 'final dot-dot segment'],
    ['spiffe://example.org/work load', 'BAD_PATH_CHAR', 'space in the path'],
    ['spiffe://example.org/wörk', 'BAD_PATH_CHAR', 'non-ASCII path'],
    ['spiffe://example.org/a:b', 'BAD_PATH_CHAR', 'colon in the path'],
    ['spiffe://example.org/a@b', 'BAD_PATH_CHAR', 'at sign in the path'],
    ['spiffe://example.org/a+b', 'BAD_PATH_CHAR', 'plus in the path'],
    [`spiffe://${'a'.repeat(256)}`, 'TRUST_DOMAIN_TOO_LONG', 'trust domain over 255 bytes'],
    [`spiffe://example.org/${'a'.repeat(2048)}`, 'TOO_LONG', 'ID over 2048 bytes'],
  ];
  for (const [s, reason, why] of invalid) {
    it(`rejects ${why}: ${reason}`, () => rejects(s, reason));
  }
});

describe('TrustDomain.parse', () => {
  it('accepts a bare name and the trust domain of an ID', () => {
    assert.equal(TrustDomain.parse('example.org').name, 'example.org');
    assert.equal(TrustDomain.parse('spiffe://example.org/some/path').name, 'example.org');
    assert.equal(TrustDomain.parse('example.org').idString(), 'spiffe://example.org');
    assert.equal(TrustDomain.parse('example.org').id().toString(), 'spiffe://example.org');
  });
  const invalid: [string, SpiffeIdErrorReason][] = [
    ['', 'MISSING_TRUST_DOMAIN'],
    ['Example.org', 'BAD_TRUST_DOMAIN_CHAR'],
    ['example.org:443', 'PORT'],
    ['user@example.org', 'USERINFO'],
    ['ex%41mple.org', 'PERCENT_ENCODED'],
    ['example.org/path', 'BAD_TRUST_DOMAIN_CHAR'],
    ['https://example.org', 'WRONG_SCHEME'],
    ['a'.repeat(256), 'TRUST_DOMAIN_TOO_LONG'],
  ];
  for (const [s, reason] of invalid)
    it(`rejects ${JSON.stringify(s.slice(0, 40))}: ${reason}`, () => rejects(s, reason, TrustDomain.parse));
});

describe('SpiffeId.fromSegments / fromPath', () => {
  const td = TrustDomain.parse('example.org');
  it('joins valid segments', () => {
    assert.equal(SpiffeId.fromSegments(td, 'ci', 'builder').toString(), 'spiffe://example.org/ci/builder');
    assert.equal(SpiffeId.fromSegments(td).toString(), 'spiffe://example.org');
    assert.equal(SpiffeId.fromPath(td, '/a/b').toString(), 'spiffe://example.org/a/b');
  });
  it('rejects bad segments and paths', () => {
    rejects('', 'EMPTY_SEGMENT', (s) => SpiffeId.fromSegments(td, s));
    rejects('..', 'DOT_SEGMENT', (s) => SpiffeId.fromSegments(td, s));
    rejects('a/b', 'BAD_PATH_CHAR', (s) => SpiffeId.fromSegments(td, s));
    rejects('a%2f', 'PERCENT_ENCODED', (s) => SpiffeId.fromSegments(td, s));
    rejects('a b', 'BAD_PATH_CHAR', (s) => SpiffeId.fromSegments(td, s));
    rejects('no-slash', 'NO_LEADING_SLASH', (s) => SpiffeId.fromPath(td, s));
    rejects('/a/', 'TRAILING_SLASH', (s) => SpiffeId.fromPath(td, s));
    rejects('x'.repeat(2100), 'TOO_LONG', (s) => SpiffeId.fromSegments(td, s));
  });
});

describe('matchers', () => {
  const a = SpiffeId.parse('spiffe://example.org/a');
  const b = SpiffeId.parse('spiffe://example.org/b');
  const other = SpiffeId.parse('spiffe://other.org/a');
  it('matchAny accepts anything', () => assert.equal(matches(matchAny(), other), true));
  it('matchId accepts only the ID', () => {
    matchId(a)(SpiffeId.parse('spiffe://example.org/a'));
    assert.throws(
      () => matchId(a)(b),
      (e: unknown) =>
        e instanceof SpiffeIdError && e.reason === 'NOT_MATCHED' && e.message === 'spiffeid: unexpected ID "spiffe://example.org/b"',
    );
  });
  it('matchOneOf accepts any listed ID', () => {
    assert.equal(matches(matchOneOf(a, b), b), true);
    assert.equal(matches(matchOneOf(a, b), other), false);
    assert.equal(matches(matchOneOf(), a), false);
  });
  it('matchMemberOf checks the trust domain; a mismatch is a verification failure (exit 1)', () => {
    const m = matchMemberOf(TrustDomain.parse('example.org'));
    assert.equal(matches(m, b), true);
    assert.throws(
      () => m(other),
      (e: unknown) => e instanceof SpiffeIdError && exitCodeFor(e.code) === 1 && /unexpected trust domain "other.org"/.test(e.message),
    );
  });
  it('equality and membership', () => {
    assert.equal(a.equals(SpiffeId.parse(a.toString())), true);
    assert.equal(a.memberOf(TrustDomain.parse('example.org')), true);
    assert.equal(JSON.stringify({ id: a }), '{"id":"spiffe://example.org/a"}');
  });
});
