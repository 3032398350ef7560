/**
 * Rules that nest brackets deeper than MAX_RULE_DEPTH are refused before they are parsed: the CEL parser's
 * time is cubic in the nesting of parentheses, which leave nothing in the parsed expression to bound.
 * Found by `npm run fuzz -- cel-rule` (a 799-byte rule took 1.2 s of CPU; a 4 KiB one, about 40 s).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bracketDepth } from '../../../src/intoto/policy/bracket-depth.js';
import { compileRule, type RuleProblem } from '../../../src/intoto/policy/compile-rule.js';
import { MAX_RULE_DEPTH } from '../../../src/intoto/policy/limits.js';

const nested = (open: string, close: string, depth: number, inner = 'true') => open.repeat(depth) + inner + close.repeat(depth);

test('rule nesting: parentheses deeper than the limit are refused, with the column where the limit is passed', () => {
  for (const depth of [MAX_RULE_DEPTH + 1, 1000, 2000]) {
    const r = compileRule(nested('(', ')', depth));
    assert.ok('problem' in r, `${depth} nested parentheses compiled`);
    assert.match((r as RuleProblem).problem, new RegExp(`^nests ${depth} levels deep, more than the ${MAX_RULE_DEPTH} a rule may$`));
    assert.equal((r as RuleProblem).column, MAX_RULE_DEPTH + 1);
  }
  assert.ok('problem' in compileRule(`subject.all(s, ${nested('[', ']', 500, 's')}.size() > 0)`));
});

test('rule nesting: the limit itself is allowed, and brackets inside string literals do not count', () => {
  assert.ok(!('problem' in compileRule(nested('(', ')', MAX_RULE_DEPTH))), 'the limit is refused');
  const r = compileRule(`predicate.scanner.uri == "${'('.repeat(500)}" || predicate.scanner.uri == '''${'['.repeat(100)}'''`);
  assert.ok(!('problem' in r), (r as RuleProblem).problem);
});

test('bracketDepth: strings with escapes, raw strings and triple quotes', () => {
  assert.deepEqual(bracketDepth('a(b[c{d}])'), { depth: 3 });
  assert.deepEqual(bracketDepth('a(b[c{d}])', 2), { depth: 3, beyond: 5 });
  assert.equal(bracketDepth(`"\\"(((" + (x)`).depth, 1);
  assert.equal(bracketDepth(`r'\\' + (x)`).depth, 1);
  assert.equal(bracketDepth(`"""(( " ((""" + [x]`).depth, 1);
  assert.equal(bracketDepth(`)))(`).depth, 1);
  assert.equal(bracketDepth(`"unterminated (((`).depth, 0);
});
