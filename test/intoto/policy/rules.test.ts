/**
 * Attestation rules on their own (src/intoto/policy): compiling (limits, syntax, types), evaluating
 * (outcomes, the cost bound), and the values a failed rule reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRule, type CompiledRule, type RuleProblem } from '../../../src/intoto/policy/compile-rule.js';
import { costBound, largestCollection } from '../../../src/intoto/policy/cost.js';
import { evaluateRule } from '../../../src/intoto/policy/evaluate.js';
import { celJson } from '../../../src/intoto/policy/json-values.js';
import { EVALUATION_BUDGET, MAX_COMPREHENSION_NESTING, MAX_RULE_LENGTH, MAX_RULE_NODES } from '../../../src/intoto/policy/limits.js';
import type { RuleBindings } from '../../../src/intoto/policy/rule-env.js';
import { valuesSeen } from '../../../src/intoto/policy/seen.js';

function compiled(text: string): CompiledRule {
  const r = compileRule(text);
  assert.ok(!('problem' in r), `${text}: ${(r as RuleProblem).problem}`);
  return r as CompiledRule;
}

function problem(text: string): RuleProblem {
  const r = compileRule(text);
  assert.ok('problem' in r, `${text} compiled`);
  return r as RuleProblem;
}

function bind(predicate: unknown, extra: Record<string, unknown> = {}): RuleBindings {
  return {
    subject: celJson([{ name: 'app.tar', digest: { sha256: 'ab' } }]),
    predicateType: 'https://in-toto.io/attestation/vulns',
    predicate: celJson(predicate),
    signer: celJson({ keyid: 'abcd', spiffeId: null }),
    timestamp: null,
    ...(extra as RuleBindings),
  };
}

const evaluate = (text: string, predicate: unknown) => evaluateRule(compiled(text), bind(predicate), largestCollection(predicate));

test('rules: type errors name the problem and its column', () => {
  assert.deepEqual(problem("predicat.x == 'a'"), {
    problem:
      "does not type-check: undeclared reference to 'predicat' (the variables are subject, predicateType, predicate, materials, products, signer, timestamp)",
    column: 1,
  });
  assert.match(problem('signer.keyId == "a"').problem, /signer has no field 'keyId' \(its fields are keyid, spiffeId\)/);
  assert.match(problem("subject[0].nme == 'x'").problem, /ResourceDescriptor has no field 'nme'/);
  assert.match(problem("'a' + 1 == 'a1'").problem, /found no matching overload for '_\+_' applied to '\(string, int\)'/);
  assert.match(problem('size(predicate)').problem, /must be true or false \(a bool\), and this one is of type int/);
  assert.match(problem('predicateType.size() > true').problem, /no matching overload for '_>_'/);
  assert.match(problem('unknownFn(1)').problem, /undeclared reference to function 'unknownFn'/);
  assert.match(problem('Foo{a: 1} == 1').problem, /creating messages \(Foo\{…\}\) is not supported/);
  assert.match(problem("materials.exists(m, m.sha256 == 'x')").problem, /string has no fields/);
  assert.equal(problem('1 +').problem, 'is not CEL: found + but expecting end of input');
});

test('rules: what type-checks', () => {
  for (const text of [
    "predicate.scanner.result.all(f, f.severity != 'CRITICAL')",
    "predicateType == 'https://slsa.dev/provenance/v1' && predicate.runDetails.builder.id.startsWith('spiffe://')",
    "subject.exists(s, s.digest.sha256 == products['app.tar'].sha256)",
    "signer.spiffeId == 'spiffe://demo.evident/ci/scanner'",
    "timestamp == null || timestamp < timestamp('2030-01-01T00:00:00Z')",
    'has(predicate.scanner) && size(materials) >= 0',
    "type(predicate) == map && 'x' in predicate",
    'predicate.scanner.result.map(f, f.id).exists(i, i.matches("^GHSA-"))',
  ]) {
    compiled(text);
  }
});

test('rules: the limits on length, nodes, nesting and depth are enforced before anything else', () => {
  assert.match(
    problem(`predicateType == '${'a'.repeat(MAX_RULE_LENGTH)}'`).problem,
    new RegExp(`more than the ${MAX_RULE_LENGTH} a rule may have`),
  );
  const many = `size([${Array(MAX_RULE_NODES).fill('1').join(',')}]) > 0`;
  assert.match(problem(many).problem, new RegExp(`nodes \\(macros expanded\\), more than the ${MAX_RULE_NODES}`));
  assert.match(
    problem('predicate.a.all(x, predicate.b.all(y, predicate.c.all(z, true)))').problem,
    new RegExp(`nests all/exists/exists_one/map/filter 3 deep, more than the ${MAX_COMPREHENSION_NESTING}`),
  );
  assert.match(problem(`size(${'['.repeat(100)}${']'.repeat(100)}) > 0`).problem, /^nests 10\d levels deep, more than the 64 a rule may$/);
  // brackets are counted before the parser (which recurses, and is slow on deep parentheses) sees the rule
  assert.equal(problem(`${'('.repeat(2000)}true${')'.repeat(2000)}`).problem, 'nests 2000 levels deep, more than the 64 a rule may');
});

test('rules: every outcome: true, false, a missing field, a non-bool, an error', () => {
  assert.deepEqual(evaluate('predicate.a == 1', { a: 1 }), { kind: 'true' });
  assert.deepEqual(evaluate('predicate.a == 2', { a: 1 }), { kind: 'false' });
  assert.deepEqual(evaluate('predicate.b == 1', { a: 1 }), { kind: 'error', message: 'field not found: b', missing: true });
  assert.deepEqual(evaluate("predicate['b'] == 1", { a: 1 }), { kind: 'error', message: 'field not found: b', missing: true });
  assert.deepEqual(evaluate('predicate.a', { a: 'x' }), { kind: 'error', message: 'evaluated to "x", not true or false', missing: false });
  const e = evaluate('predicate.a / 0 == 1', { a: 1 });
  assert.equal(e.kind, 'error');
  assert.equal((e as { missing: boolean }).missing, false);
  // a null value is present: has() says so
  assert.deepEqual(evaluate('has(predicate.a) && predicate.a == null', { a: null }), { kind: 'true' });
});

test('rules: the cost bound refuses what would run away, from the sizes of the inputs', () => {
  const list = Array.from({ length: 4000 }, (_, i) => ({ id: `x${i}` }));
  const nested = compiled('predicate.l.all(a, predicate.l.exists(b, b.id == a.id))');
  const outcome = evaluateRule(nested, bind({ l: list }), largestCollection({ l: list }));
  assert.equal(outcome.kind, 'cost');
  assert.ok((outcome as { bound: number }).bound > EVALUATION_BUDGET);
  assert.deepEqual(evaluateRule(nested, bind({ l: list.slice(0, 50) }), 50), { kind: 'true' });
  // one loop over a long list is within the budget
  const long = Array.from({ length: 100_000 }, (_, i) => ({ id: `x${i}` }));
  assert.deepEqual(evaluate("predicate.l.all(a, a.id != '')", { l: long }), { kind: 'true' });
  // the bound grows with the rule's nodes, its loops' nesting, and lists its + can make
  const shape = compiled("predicate.l.map(a, a.id).exists(i, i == 'x')").shape;
  assert.ok(costBound(shape, 1000) > costBound(compiled("predicate.l.exists(a, a.id == 'x')").shape, 1000));
  assert.equal(largestCollection({ a: [1, 2, 3], b: { c: [1, 2, 3, 4, 5] } }), 5);
});

test('rules: map over a long list and iterating its result runs in linear time (list concatenation is replaced)', () => {
  const l = Array.from({ length: 50_000 }, (_, i) => ({ id: `CVE-${i}` }));
  const started = performance.now();
  assert.deepEqual(evaluate("predicate.l.map(f, f.id).exists(i, i == 'CVE-49999')", { l }), { kind: 'true' });
  assert.ok(performance.now() - started < 10_000);
  // lists never change once made, however they are appended to
  const shorter = { l: l.slice(0, 5000) };
  const appended = compiled(
    '[predicate.l.map(f, f.id) + ["a"]].exists(x, x[5000] == "a") && [predicate.l.map(f, f.id) + ["b"]].exists(x, x[5000] == "b")',
  );
  assert.deepEqual(evaluateRule(appended, bind(shorter), 5000), { kind: 'true' });
  assert.deepEqual(evaluate('[1, 2] + [3] == [1, 2, 3] && ([1] + [2]) + [3] == [1, 2, 3]', {}), { kind: 'true' });
});

test('rules: a failed rule reports the fields it read and the elements that failed it', () => {
  const predicate = {
    scanner: {
      uri: 'pkg:github/aquasecurity/trivy',
      result: [
        { id: 'CVE-1', severity: 'LOW' },
        { id: 'GHSA-2', severity: 'CRITICAL', package: { name: 'lodash', version: '4.17.20' } },
      ],
    },
  };
  const rule = compiled("predicate.scanner.uri == 'grype' || predicate.scanner.result.all(f, f.severity != 'CRITICAL')");
  assert.deepEqual(valuesSeen(rule, bind(predicate)), [
    'predicate.scanner.uri = "pkg:github/aquasecurity/trivy"',
    'predicate.scanner.result has 2 entries',
    'fails at predicate.scanner.result[1] = {"id": "GHSA-2", "severity": "CRITICAL", "package": {"name": "lodash", "version": "4.17.20"}}',
  ]);
  const negated = compiled("!predicate.scanner.result.exists(f, f.severity == 'CRITICAL')");
  assert.deepEqual(valuesSeen(negated, bind(predicate)).slice(1), [
    'matches at predicate.scanner.result[1] = {"id": "GHSA-2", "severity": "CRITICAL", "package": {"name": "lodash", "version": "4.17.20"}}',
  ]);
  const long = { l: Array.from({ length: 1000 }, (_, i) => ({ text: 'x'.repeat(500), i })) };
  for (const line of valuesSeen(compiled('predicate.l == []'), bind(long))) assert.ok(line.length < 400, line);
});
