import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStatement, STATEMENT_TYPE } from '../../src/attestation/statement.js';
import { linkToStatement, LINK_PREDICATE_TYPE } from '../../src/attestation/index.js';
import { checkPayloadLink } from '../../src/intoto/models/statement-link.js';
import { Problems } from '../../src/intoto/models/problems.js';
import type { Link } from '../../src/intoto/models/types.js';

const link: Link = {
  _type: 'link',
  name: 'build',
  command: ['cc', '-o', 'hello', 'hello.c'],
  materials: { 'hello.c': { sha256: 'aa'.repeat(32) } },
  products: { hello: { sha256: 'bb'.repeat(32) } },
  byproducts: { 'return-value': 0 },
  environment: {},
};

test('a link travels as a Statement v1 with the link predicate and comes back unchanged', () => {
  const statement = parseStatement(JSON.parse(JSON.stringify(linkToStatement(link))));
  assert.equal(statement._type, STATEMENT_TYPE);
  assert.equal(statement.predicateType, LINK_PREDICATE_TYPE);
  assert.deepEqual(statement.subject, [{ name: 'hello', digest: { sha256: 'bb'.repeat(32) } }]);
  const problems = new Problems();
  assert.deepEqual(checkPayloadLink(statement, 'payload', problems), link);
  assert.equal(problems.size, 0);
});

test('malformed statements are refused with the field named', () => {
  const good = JSON.parse(JSON.stringify(linkToStatement(link))) as Record<string, unknown>;
  assert.throws(() => parseStatement({ ...good, _type: 'https://in-toto.io/Statement/v0.1' }), /_type must be/);
  assert.throws(() => parseStatement({ ...good, extra: true }), /unknown field 'extra'/);
  assert.throws(
    () => parseStatement({ ...good, subject: [{ name: 'x', digest: { sha256: 'XYZ' } }] }),
    /subject\[0\]\.digest\.sha256 must be lowercase hex/,
  );
  assert.throws(() => parseStatement({ ...good, predicateType: '' }), /predicateType must be a non-empty string/);
  assert.throws(() => parseStatement([]), /a statement is a JSON object/);
});
