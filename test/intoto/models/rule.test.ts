import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule, parseRuleString, ruleToTokens } from '../../../src/intoto/models/rule.js';
import { shellSplit } from '../../../src/intoto/models/shell-split.js';
import { EvidentError } from '../../../src/errors.js';
import { runReferencePython, skipUnlessReference } from '../../helpers/reference.js';

const where = 'steps[1].expected_materials[0]';

test('MATCH in all four forms, keywords in any case', () => {
  assert.deepEqual(parseRule(['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'code'], where), {
    type: 'MATCH',
    pattern: 'src/*',
    sourcePrefix: undefined,
    destinationType: 'products',
    destinationPrefix: undefined,
    destinationStep: 'code',
    tokens: ['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'code'],
  });
  const full = parseRule(['match', '*', 'in', 'a', 'With', 'Materials', 'IN', 'b', 'from', 'x'], where);
  assert.equal(full.type, 'MATCH');
  if (full.type !== 'MATCH') return;
  assert.equal(full.sourcePrefix, 'a');
  assert.equal(full.destinationPrefix, 'b');
  assert.equal(full.destinationType, 'materials');
  assert.deepEqual(full.tokens, ['match', '*', 'in', 'a', 'With', 'Materials', 'IN', 'b', 'from', 'x'], 'tokens are kept as signed');
  const src = parseRule(['MATCH', '*', 'IN', 'a', 'WITH', 'PRODUCTS', 'FROM', 'x'], where);
  assert.equal(src.type === 'MATCH' && src.sourcePrefix, 'a');
  const dst = parseRule(['MATCH', '*', 'WITH', 'PRODUCTS', 'IN', 'b', 'FROM', 'x'], where);
  assert.equal(dst.type === 'MATCH' && dst.destinationPrefix, 'b');
});

test('generic rules', () => {
  for (const kw of ['CREATE', 'delete', 'Modify', 'ALLOW', 'DISALLOW', 'require']) {
    const rule = parseRule([kw, 'foo'], where);
    assert.equal(rule.type, kw.toUpperCase());
    assert.equal(rule.pattern, 'foo');
  }
});

test('malformed rules are reported with the path, the problem and the rule', () => {
  const cases: [unknown, RegExp][] = [
    [
      ['MATCH', 'foo', 'WITH', 'BAR'],
      /^steps\[1\]\.expected_materials\[0\]: MATCH needs WITH MATERIALS\|PRODUCTS \(found 'BAR'\): MATCH <pattern> \[IN <prefix>\] WITH MATERIALS\|PRODUCTS \[IN <prefix>\] FROM <step>; rule: MATCH foo WITH BAR$/,
    ],
    [['MATCH', 'foo', 'WITH', 'PRODUCTS'], /MATCH needs FROM <step> after WITH PRODUCTS \(the rule ends there\)/],
    [['MATCH', 'foo', 'WITH', 'PRODUCTS', 'FROM'], /MATCH needs a step name after FROM/],
    [['MATCH', 'foo', 'WITH', 'PRODUCTS', 'FROM', 'a', 'b'], /has 'b' after FROM a, where the rule must end/],
    [['MATCH', 'foo', 'FROM', 'x'], /MATCH needs WITH MATERIALS\|PRODUCTS after the pattern \(found 'FROM'\)/],
    [['MATCH', 'foo', 'IN'], /MATCH needs a prefix after IN/],
    [['CREATE'], /CREATE needs a pattern/],
    [['CREATE', 'a', 'b'], /CREATE takes exactly one pattern .*; rule: CREATE a b$/],
    [['FOO', 'bar'], /unknown rule 'FOO': a rule starts with one of MATCH, CREATE/],
    [[], /an empty rule/],
    ['CREATE foo', /a rule is a list of strings like \["CREATE", "foo"\], not "CREATE foo"/],
    [['CREATE', 1], /a rule is a list of strings/],
  ];
  for (const [tokens, message] of cases) {
    assert.throws(
      () => parseRule(tokens, where),
      (e: unknown) => e instanceof EvidentError && e.code === 'BAD_INPUT' && message.test(e.message),
      JSON.stringify(tokens),
    );
  }
});

test('parseRuleString splits like shlex; quoted patterns keep their spaces', () => {
  assert.deepEqual(parseRuleString('MATCH src/* WITH PRODUCTS FROM code').tokens, ['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'code']);
  assert.deepEqual(parseRuleString(`CREATE 'my file'`).tokens, ['CREATE', 'my file']);
  assert.deepEqual(parseRuleString('CREATE my\\ file').tokens, ['CREATE', 'my file']);
  assert.throws(() => parseRuleString('CREATE my file', 'products[0]'), /products\[0\]: CREATE takes exactly one pattern/);
  assert.throws(() => parseRuleString(`CREATE 'open`, 'products[0]'), /products\[0\]: unclosed single quote/);
});

test('ruleToTokens writes the reference pack_rule form', () => {
  assert.deepEqual(ruleToTokens(parseRule(['match', 'a', 'in', 'p', 'with', 'products', 'in', 'q', 'from', 's'], where)), [
    'MATCH',
    'a',
    'IN',
    'p',
    'WITH',
    'PRODUCTS',
    'IN',
    'q',
    'FROM',
    's',
  ]);
  assert.deepEqual(ruleToTokens(parseRule(['match', 'a', 'with', 'materials', 'from', 's'], where)), [
    'MATCH',
    'a',
    'WITH',
    'MATERIALS',
    'FROM',
    's',
  ]);
  assert.deepEqual(ruleToTokens(parseRule(['allow', 'x'], where)), ['ALLOW', 'x']);
});

/**
 * Valid rules of every form, then mutated (a word swapped, dropped or added): small alphabets make the
 * interesting collisions (keyword-looking patterns, a prefix named "in") likely.
 */
function randomRules(n: number, seed: number): string[][] {
  let s = seed;
  const rand = (k: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor((s / 2147483648) * k);
  };
  const words = [
    'MATCH',
    'match',
    'IN',
    'in',
    'WITH',
    'with',
    'FROM',
    'from',
    'MATERIALS',
    'products',
    'PRODUCTS',
    'CREATE',
    'allow',
    'x',
    '*',
    '',
  ];
  const templates = [
    ['MATCH', 'p', 'WITH', 'PRODUCTS', 'FROM', 's'],
    ['MATCH', 'p', 'IN', 'a', 'WITH', 'MATERIALS', 'FROM', 's'],
    ['MATCH', 'p', 'WITH', 'products', 'IN', 'b', 'FROM', 's'],
    ['match', 'p', 'in', 'a', 'with', 'materials', 'in', 'b', 'from', 's'],
    ['CREATE', 'p'],
    ['disallow', '*'],
  ];
  const rules: string[][] = [];
  for (let i = 0; i < n; i++) {
    const rule = [...templates[rand(templates.length)]!];
    for (let m = rand(3); m > 0; m--) {
      const op = rand(3);
      const at = rand(rule.length + 1);
      if (op === 0 && at < rule.length) rule[at] = words[rand(words.length)]!;
      else if (op === 1) rule.splice(at, 1);
      else rule.splice(at, 0, words[rand(words.length)]!);
    }
    rules.push(rule);
  }
  return rules;
}

test('accepts and refuses exactly what the reference rulelib.unpack_rule does (4000 random rules)', async (t) => {
  if (skipUnlessReference(t)) return;
  const rules = randomRules(4000, 7);
  rules.push(
    ['MATCH', 'p', 'IN', 'with', 'WITH', 'products', 'FROM', 's'],
    ['MATCH', 'p', 'WITH', 'PRODUCTS', 'IN', 'from', 'FROM', 's'],
    ['MATCH', 'p', 'WITH', 'PRODUCTS', 'FROM', 'in'],
  );
  const out = await runReferencePython(
    `import json,sys
from in_toto.rulelib import unpack_rule
res=[]
for r in json.load(sys.stdin):
  try:
    unpack_rule(r); res.append(True)
  except Exception:
    res.append(False)
print(json.dumps(res))`,
    { input: JSON.stringify(rules) },
  );
  const expected = JSON.parse(out) as boolean[];
  let accepted = 0;
  rules.forEach((rule, i) => {
    let ours = true;
    try {
      parseRule(rule, 'r');
    } catch {
      ours = false;
    }
    if (ours) accepted++;
    assert.equal(ours, expected[i], `rule ${JSON.stringify(rule)}`);
  });
  assert.ok(accepted > 800 && accepted < 3200, `enough accepted rules to mean something (${accepted})`);
});

test('shellSplit agrees with Python shlex.split', async (t) => {
  if (skipUnlessReference(t)) return;
  const inputs = [
    `a b  c`,
    `'a b' c`,
    `"a \\" b" c`,
    `a\\ b`,
    `"a\\nb"`,
    `'a\\'`,
    `a"b c"d`,
    `""`,
    `'' x`,
    `cc -o hello src/hello.c`,
    `echo "x  y" 'z'`,
    ` lead trail `,
    `"\\\\"`,
  ];
  const out = await runReferencePython(`import json,sys,shlex\nprint(json.dumps([shlex.split(s) for s in json.load(sys.stdin)]))`, {
    input: JSON.stringify(inputs),
  });
  assert.deepEqual(inputs.map(shellSplit), JSON.parse(out));
});

test('shellSplit agrees with shlex.split on 3000 random strings, errors included', async (t) => {
  if (skipUnlessReference(t)) return;
  let s = 11;
  const rand = (k: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor((s / 2147483648) * k);
  };
  const alphabet = ['a', 'b', ' ', '  ', '\t', '"', "'", '\\', '*', 'é'];
  const inputs = Array.from({ length: 3000 }, () => Array.from({ length: rand(10) }, () => alphabet[rand(alphabet.length)]).join(''));
  const out = await runReferencePython(
    `import json,sys,shlex
res=[]
for s in json.load(sys.stdin):
  try:
    res.append(shlex.split(s))
  except ValueError:
    res.append(None)
print(json.dumps(res))`,
    { input: JSON.stringify(inputs) },
  );
  const expected = JSON.parse(out) as (string[] | null)[];
  inputs.forEach((input, i) => {
    let ours: string[] | null;
    try {
      ours = shellSplit(input);
    } catch {
      ours = null;
    }
    assert.deepEqual(ours, expected[i], JSON.stringify(input));
  });
});
