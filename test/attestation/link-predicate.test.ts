import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkToStatement, statementToLink, LINK_PREDICATE_TYPE } from '../../src/attestation/link-predicate.js';
import { parseStatement, STATEMENT_TYPE } from '../../src/attestation/statement.js';
import type { Link } from '../../src/intoto/models/types.js';

const link: Link = {
  _type: 'link',
  name: 'build',
  command: ['cc', '-o', 'hello', 'hello.c'],
  materials: { 'hello.c': { sha256: 'aa'.repeat(32) } },
  products: { hello: { sha256: 'bb'.repeat(32) }, 'a.out': { sha256: 'cc'.repeat(32), sha512: 'dd'.repeat(64) } },
  byproducts: { 'return-value': 0 },
  environment: {},
};

test('a link becomes a Statement v1 with the link predicate v0.3 and comes back unchanged', () => {
  const statement = linkToStatement(link);
  assert.equal(statement._type, STATEMENT_TYPE);
  assert.equal(statement.predicateType, LINK_PREDICATE_TYPE);
  assert.deepEqual(statement.subject.map((s) => s.name), ['a.out', 'hello']);
  assert.deepEqual(statement.predicate.materials, [{ name: 'hello.c', digest: { sha256: 'aa'.repeat(32) } }]);
  assert.deepEqual(statementToLink(parseStatement(JSON.parse(JSON.stringify(statement)))), link);
});

test('malformed statements and predicates are refused with the field named', () => {
  const good = JSON.parse(JSON.stringify(linkToStatement(link))) as Record<string, unknown>;
  assert.throws(() => parseStatement({ ...good, _type: 'https://in-toto.io/Statement/v0.1' }), /_type must be/);
  assert.throws(() => parseStatement({ ...good, extra: true }), /unknown field 'extra'/);
  assert.throws(() => parseStatement({ ...good, subject: [{ name: 'x', digest: { sha256: 'XYZ' } }] }), /subject\[0\]\.digest\.sha256 must be lowercase hex/);
  const st = parseStatement(good);
  assert.throws(() => statementToLink({ ...st, predicateType: 'https://slsa.dev/provenance/v1' }), /predicateType must be/);
  assert.throws(() => statementToLink({ ...st, predicate: { ...(st.predicate as object), name: '' } }), /name must be a non-empty string/);
  assert.throws(() => statementToLink({ ...st, subject: [st.subject[0]!, st.subject[0]!] }), /names 'a.out' twice/);
});
