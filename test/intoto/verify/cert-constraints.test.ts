import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CertificateAttributes } from '../../../src/crypto/x509/index.js';
import { constraintProblem } from '../../../src/intoto/verify/cert-constraints.js';
import type { CertificateConstraint } from '../../../src/intoto/models/types.js';

const ROOT = 'a'.repeat(64);
const OTHER_ROOT = 'b'.repeat(64);

const cert: CertificateAttributes = {
  commonName: 'builder',
  organizations: ['Corp'],
  dnsNames: ['ci.corp.example', 'build.corp.example'],
  emails: ['ci@corp.example'],
  uris: ['spiffe://corp.example/ci/builder'],
  subject: 'CN=builder, O=Corp',
};

const any: CertificateConstraint = { common_name: '*', dns_names: ['*'], emails: ['*'], organizations: ['*'], roots: ['*'], uris: ['*'] };
const check = (c: Partial<CertificateConstraint>, attrs: Partial<CertificateAttributes> = {}, roots = [ROOT]) =>
  constraintProblem({ ...any, ...c }, { ...cert, ...attrs }, roots);

describe('certificate constraints (in-toto-golang rules)', () => {
  it('"*" allows anything in every attribute', () => {
    assert.equal(check({}), undefined);
    assert.equal(check({}, { commonName: '', organizations: [], dnsNames: [], emails: [], uris: [] }), undefined);
  });

  it('common_name: equal, or "" for none', () => {
    assert.equal(check({ common_name: 'builder' }), undefined);
    assert.equal(check({ common_name: 'tester' }), 'common_name must be [tester], not [builder]');
    assert.equal(check({ common_name: '' }), 'common_name must be empty, not [builder]');
    assert.equal(check({ common_name: '' }, { commonName: '' }), undefined);
  });

  it('dns_names: the same set, every listed name present and no other', () => {
    assert.equal(check({ dns_names: ['build.corp.example', 'ci.corp.example'] }), undefined);
    assert.equal(
      check({ dns_names: ['ci.corp.example'] }),
      'dns_names must be [ci.corp.example], not [ci.corp.example, build.corp.example]',
    );
    assert.match(check({ dns_names: ['ci.corp.example', 'build.corp.example', 'x.corp.example'] })!, /^dns_names must be/);
    assert.equal(check({ dns_names: [] }), 'dns_names must be empty, not [ci.corp.example, build.corp.example]');
    assert.equal(check({ dns_names: [] }, { dnsNames: [] }), undefined);
  });

  it('emails', () => {
    assert.equal(check({ emails: ['ci@corp.example'] }), undefined);
    assert.equal(check({ emails: ['dev@corp.example'] }), 'emails must be [dev@corp.example], not [ci@corp.example]');
    assert.equal(check({ emails: [] }, { emails: [] }), undefined);
    assert.match(check({ emails: [] })!, /^emails must be empty/);
  });

  it('organizations', () => {
    assert.equal(check({ organizations: ['Corp'] }), undefined);
    assert.equal(check({ organizations: ['Rogue'] }), 'organizations must be [Rogue], not [Corp]');
    assert.match(check({ organizations: ['Corp'] }, { organizations: [] })!, /^organizations must be \[Corp\], not \[\]/);
  });

  it('uris: the SPIFFE ID, exactly', () => {
    assert.equal(check({ uris: ['spiffe://corp.example/ci/builder'] }), undefined);
    assert.equal(
      check({ uris: ['spiffe://corp.example/ci/builder'] }, { uris: ['spiffe://corp.example/ci/rogue'] }),
      'uris must be [spiffe://corp.example/ci/builder]',
    );
    assert.ok(check({ uris: ['spiffe://corp.example/ci/builder'] }, { uris: ['spiffe://corp.example/ci/builder/x'] }));
    assert.ok(check({ uris: ['spiffe://corp.example/ci/builder'] }, { uris: [] }));
    assert.match(check({ uris: [] })!, /^uris must be empty/);
  });

  it('roots: a verified chain must end at a listed root', () => {
    assert.equal(check({ roots: [ROOT] }), undefined);
    assert.equal(check({ roots: [OTHER_ROOT, ROOT] }), undefined);
    assert.equal(check({ roots: [OTHER_ROOT] }), 'roots must include the root it chains to ([aaaaaaaa]), but are [bbbbbbbb]');
    assert.ok(check({ roots: [] }));
    assert.equal(check({ roots: ['*'] }, {}, [OTHER_ROOT]), undefined);
  });

  it('"*" is a wildcard only alone; as one value among others it is a literal', () => {
    assert.ok(check({ dns_names: ['*', 'ci.corp.example'] }));
  });

  it('"" alone means none; beside other values it is a value that must be met, as in-toto-golang keeps it', () => {
    assert.equal(check({ emails: [''] }, { emails: [] }), undefined);
    assert.equal(check({ emails: [''] }), 'emails must be empty, not [ci@corp.example]');
    // in-toto-golang: ["ci@corp.example", ""] leaves "" unmet, so the constraint fails
    assert.equal(check({ emails: ['ci@corp.example', ''] }), 'emails must be [ci@corp.example, ""], not [ci@corp.example]');
    assert.equal(check({ uris: ['spiffe://corp.example/ci/builder', ''] }), 'uris must be [spiffe://corp.example/ci/builder, ""]');
    assert.ok(check({ roots: [ROOT, ''] }) === undefined, 'roots: a listed root reached is enough, whatever else is listed');
    // a certificate's value "" counts as none only when it is its only one
    assert.equal(check({ organizations: [] }, { organizations: [''] }), undefined);
    assert.equal(check({ organizations: ['Corp'] }, { organizations: ['Corp', ''] }), 'organizations must be [Corp], not [Corp, ""]');
  });
});
