/**
 * A step's `expected_vsa` (evident's extension: the step's evidence is a signed SLSA VSA): checked strictly,
 * kept exactly as written, absent from a layout that does not use it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJsonBytes } from '../../../src/crypto/canonical-json.js';
import { parseLayout } from '../../../src/intoto/models/layout.js';
import { ValidationError } from '../../../src/intoto/models/problems.js';
import { json, validLayout, type Loose } from './fixtures.js';

const POLICY = 'ab'.repeat(32);

function problemsOf(value: unknown): string[] {
  try {
    parseLayout(value, 'root.layout');
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return [...e.problems];
  }
  assert.fail('the layout was accepted');
}

/** The valid layout with `expected_vsa` on its first step (which runs no command). */
function withVsa(vsa: unknown): Loose {
  const l: Loose = json(validLayout());
  l.steps[0].expected_vsa = vsa;
  return l;
}

test('expected_vsa: kept exactly as written; absent, the layout keeps its canonical bytes', () => {
  const vsa = {
    policy: [{ sha256: POLICY }, { sha512: 'cd'.repeat(64) }],
    verifier_id: 'spiffe://team-a.example/verifier',
    resource_uri: 'pkg:generic/lib@1.0',
    verified_levels: ['EVIDENT_LAYOUT_VERIFIED'],
    max_age: 604800,
  };
  assert.deepEqual(parseLayout(withVsa(vsa)).steps[0]!.expected_vsa, vsa);
  assert.deepEqual(parseLayout(withVsa({})).steps[0]!.expected_vsa, {});
  const plain = json(validLayout());
  const parsed = parseLayout(plain);
  for (const s of parsed.steps) assert.equal(Object.hasOwn(s, 'expected_vsa'), false);
  assert.deepEqual(canonicalJsonBytes(parsed), canonicalJsonBytes(plain));
});

test('expected_vsa: every mistake is reported with its path', () => {
  assert.deepEqual(problemsOf(withVsa(true)), [
    'steps[0].expected_vsa: must be an object {"policy", "verifier_id", "resource_uri", "verified_levels", "max_age"}, not a boolean',
  ]);
  assert.deepEqual(
    problemsOf(
      withVsa({
        policy: [{ sha256: 'XYZ' }, {}, { __proto__x: POLICY }],
        verifier_id: '',
        resource_uri: 7,
        verified_levels: [],
        max_age: 1.5,
        expires: 'soon',
      }),
    ),
    [
      'steps[0].expected_vsa.expires: unknown field (expected one of: policy, verifier_id, resource_uri, verified_levels, max_age)',
      'steps[0].expected_vsa.policy[0].sha256: must be a lowercase hex digest',
      'steps[0].expected_vsa.policy[1]: must be a digest set {"sha256": hex}, not an object',
      'steps[0].expected_vsa.policy[2]: "__proto__x" is not a digest algorithm name',
      'steps[0].expected_vsa.verifier_id: must not be empty',
      'steps[0].expected_vsa.resource_uri: must be a string, not a number',
      'steps[0].expected_vsa.verified_levels: must be a non-empty list of levels, not a list',
      'steps[0].expected_vsa.max_age: must be a whole number of seconds, at least 1, not 1.5',
    ],
  );
  assert.deepEqual(problemsOf(withVsa({ policy: [] })), [
    'steps[0].expected_vsa.policy: must be a non-empty list of digest sets ({"sha256": hex}), not a list',
  ]);
});

test('expected_vsa: a step whose evidence is a VSA runs no command', () => {
  const l = withVsa({});
  l.steps[0].expected_command = ['make'];
  assert.deepEqual(problemsOf(l), [
    'steps[0].expected_command: must be empty: a step whose evidence is a VSA (expected_vsa) runs no command',
  ]);
});
