/**
 * A layout's `expected_predicates` (evident's extension for attestation rules): checked strictly, kept
 * exactly as written, absent from a layout that does not use it (whose canonical bytes, which the reference
 * signs and verifies, do not change).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJsonBytes } from '../../../src/crypto/canonical-json.js';
import { expectsAttestations } from '../../../src/intoto/models/expected-predicates.js';
import { parseLayout } from '../../../src/intoto/models/layout.js';
import { ValidationError } from '../../../src/intoto/models/problems.js';
import { alice, json, validLayout, type Loose } from './fixtures.js';

const VULNS = 'https://in-toto.io/attestation/vulns';

function problemsOf(value: unknown): string[] {
  try {
    parseLayout(value, 'root.layout');
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return [...e.problems];
  }
  assert.fail('the layout was accepted');
}

function withPredicates(predicates: unknown, on: 'steps' | 'inspect' = 'steps'): Loose {
  const l: Loose = json(validLayout());
  if (on === 'inspect') l.inspect = [{ _type: 'inspection', name: 'check', run: ['true'], expected_predicates: predicates }];
  else l.steps[0].expected_predicates = predicates;
  return l;
}

test('expected_predicates: kept exactly as written, flags false included', () => {
  const predicates = [
    {
      predicate_type: VULNS,
      expected_attributes: [
        { rule: "predicate.scanner.result.all(f, f.severity != 'CRITICAL')" },
        { rule: 'true', allow_if_no_claim: false, warn: true },
      ],
      functionaries: [alice.keyid],
    },
    { predicate_type: 'https://slsa.dev/provenance/v1' },
  ];
  const layout = parseLayout(withPredicates(predicates));
  assert.deepEqual(layout.steps[0]!.expected_predicates, predicates);
  assert.equal(expectsAttestations(layout), true);
  const inspection = parseLayout(withPredicates([{ predicate_type: VULNS, functionaries: [alice.keyid] }], 'inspect'));
  assert.deepEqual(inspection.inspect[0]!.expected_predicates, [{ predicate_type: VULNS, functionaries: [alice.keyid] }]);
});

test('expected_predicates: absent, the layout is what it was (no key, the same canonical bytes)', () => {
  const plain = json(validLayout());
  const parsed = parseLayout(plain);
  assert.equal(expectsAttestations(parsed), false);
  for (const s of parsed.steps) assert.equal(Object.hasOwn(s, 'expected_predicates'), false);
  for (const i of parsed.inspect) assert.equal(Object.hasOwn(i, 'expected_predicates'), false);
  assert.deepEqual(canonicalJsonBytes(parsed), canonicalJsonBytes(plain));
});

test('expected_predicates: every mistake is reported with its path', () => {
  const cases: [unknown, RegExp, ('steps' | 'inspect')?][] = [
    [{}, /^steps\[0\]\.expected_predicates: must be a list of expected predicates, not an object$/],
    [[], /^steps\[0\]\.expected_predicates: must not be empty/],
    [['x'], /^steps\[0\]\.expected_predicates\[0\]: an expected predicate is an object/],
    [[{ predicate_type: '' }], /^steps\[0\]\.expected_predicates\[0\]\.predicate_type: must be the predicate type's URI, not empty$/],
    [
      [{ predicateType: VULNS }],
      /^steps\[0\]\.expected_predicates\[0\]\.predicateType: unknown field \(expected one of: predicate_type, expected_attributes, functionaries\)$/,
    ],
    [[{ predicate_type: VULNS, expected_attributes: 'x' }], /expected_attributes: must be a list of rules, not a string$/],
    [
      [{ predicate_type: VULNS, expected_attributes: [{ rule: '' }] }],
      /expected_attributes\[0\]\.rule: must be a CEL expression, not empty$/,
    ],
    [[{ predicate_type: VULNS, expected_attributes: [{}] }], /expected_attributes\[0\]\.rule: must be a CEL expression, not missing$/],
    [
      [{ predicate_type: VULNS, expected_attributes: [{ rule: 'true', warn: 'yes' }] }],
      /expected_attributes\[0\]\.warn: must be true or false, not a string$/,
    ],
    [
      [{ predicate_type: VULNS, expected_attributes: [{ rule: 'true', allowIfNoClaim: true }] }],
      /expected_attributes\[0\]\.allowIfNoClaim: unknown field/,
    ],
    [[{ predicate_type: VULNS, expected_attributes: [{ rule: 'x'.repeat(5000) }] }], /rule: is 5000 characters long, more than the 4096/],
    [[{ predicate_type: VULNS, functionaries: [] }], /functionaries: must not be empty/],
    [[{ predicate_type: VULNS, functionaries: ['nothex'] }], /functionaries\[0\]: must be a keyid \(hex\), not "nothex"$/],
    [
      [{ predicate_type: VULNS, functionaries: ['ab'.repeat(32)] }],
      /^steps\[0\]\.expected_predicates\[0\]\.functionaries\[0\]: keyid (ab)+ is not in the layout's keys$/,
    ],
    [
      [{ predicate_type: VULNS }],
      /^inspect\[0\]\.expected_predicates\[0\]\.functionaries: is missing \(an inspection has no functionaries/,
      'inspect',
    ],
  ];
  for (const [value, expected, on] of cases) {
    const problems = problemsOf(withPredicates(value, on));
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${JSON.stringify(value).slice(0, 80)}: ${problems.join(' | ')}`,
    );
  }
});
