import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLayout } from '../../../src/intoto/models/layout.js';
import { ValidationError } from '../../../src/intoto/models/problems.js';
import { alice, json, validLayout, type Loose } from './fixtures.js';

function problemsOf(value: unknown): string[] {
  try {
    parseLayout(value, 'root.layout');
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    assert.equal(e.code, 'BAD_INPUT');
    assert.equal(e.file, 'root.layout');
    return [...e.problems];
  }
  assert.fail('the layout was accepted');
}

test('a valid layout parses to itself', () => {
  const layout = validLayout();
  assert.deepEqual(parseLayout(json(layout)), layout);
});

test('defaults are the reference defaults: keys {}, readme "", threshold 1, empty lists, _type of items', () => {
  const minimal = { _type: 'layout', expires: '2030-01-01T00:00:00Z', steps: [{ name: 'a' }], inspect: [{ name: 'b' }] };
  assert.deepEqual(parseLayout(minimal), {
    _type: 'layout',
    expires: '2030-01-01T00:00:00Z',
    readme: '',
    keys: {},
    steps: [{ _type: 'step', name: 'a', threshold: 1, expected_materials: [], expected_products: [], pubkeys: [], expected_command: [] }],
    inspect: [{ _type: 'inspection', name: 'b', expected_materials: [], expected_products: [], run: [] }],
  });
});

test('one problem per class of bad input, each with its path', () => {
  const cases: [string, (l: Loose) => void, RegExp][] = [
    ['unknown field', (l) => (l.stepz = []), /^stepz: unknown field \(expected one of: _type, expires/],
    ['unknown step field', (l) => (l.steps[0].pubkey = []), /^steps\[0\]\.pubkey: unknown field/],
    ['wrong _type', (l) => (l._type = 'link'), /^_type: must be "layout", not "link"$/],
    ['wrong step _type', (l) => (l.steps[1]._type = 'inspection'), /^steps\[1\]\._type: must be "step", not "inspection"$/],
    [
      'malformed rule',
      (l) => (l.steps[1].expected_materials[0] = ['MATCH', 'foo', 'WITH', 'BAR']),
      /^steps\[1\]\.expected_materials\[0\]: MATCH needs WITH MATERIALS\|PRODUCTS \(found 'BAR'\)/,
    ],
    ['bad date format', (l) => (l.expires = '2030-01-01'), /^expires: "2030-01-01" is not a date in the form YYYY-MM-DDTHH:MM:SSZ/],
    ['impossible date', (l) => (l.expires = '2030-02-30T00:00:00Z'), /^expires: "2030-02-30T00:00:00Z" is not a real date$/],
    ['impossible time', (l) => (l.expires = '2030-01-01T24:00:00Z'), /^expires: .* is not a real time of day$/],
    ['fractional seconds', (l) => (l.expires = '2030-01-01T00:00:00.5Z'), /^expires: .*YYYY-MM-DDTHH:MM:SSZ/],
    ['missing expires', (l) => delete l.expires, /^expires: is missing$/],
    ['threshold 0', (l) => (l.steps[0].threshold = 0), /^steps\[0\]\.threshold: must be at least 1, not 0/],
    ['threshold not an integer', (l) => (l.steps[0].threshold = '1'), /^steps\[0\]\.threshold: must be an integer, not a string$/],
    ['threshold boolean', (l) => (l.steps[0].threshold = true), /^steps\[0\]\.threshold: must be an integer, not a boolean$/],
    [
      'duplicate step names',
      (l) => (l.steps[1].name = 'code'),
      /^steps\[1\]\.name: 'code' is already the name of steps\[0\]; step and inspection names must be unique$/,
    ],
    [
      'step and inspection share a name',
      (l) => (l.inspect[0].name = 'build'),
      /^inspect\[0\]\.name: 'build' is already the name of steps\[1\]/,
    ],
    ['pubkey not hex', (l) => (l.steps[0].pubkeys = ['alice']), /^steps\[0\]\.pubkeys\[0\]: must be a keyid \(hex\), not "alice"$/],
    ['name with /', (l) => (l.steps[0].name = '../x'), /^steps\[0\]\.name: '\.\.\/x' must not contain '\/'/],
    ['name ..', (l) => (l.inspect[0].name = '..'), /^inspect\[0\]\.name: '\.\.' is not a usable name/],
    ['empty name', (l) => (l.steps[0].name = ''), /^steps\[0\]\.name: must not be empty$/],
    ['missing steps', (l) => delete l.steps, /^steps: is missing/],
    ['steps not a list', (l) => (l.steps = {}), /^steps: must be a list of steps, not an object$/],
    [
      'command not strings',
      (l) => (l.steps[1].expected_command = ['cc', 1]),
      /^steps\[1\]\.expected_command\[1\]: must be a string, not a number$/,
    ],
    ['readme not a string', (l) => (l.readme = 1), /^readme: must be a string, not a number$/],
    [
      'keyid field differs',
      (l) => (l.keys[alice.keyid].keyid = 'ab'.repeat(32)),
      /^keys\[".*"\]\.keyid: is abab.*, but the key's computed keyid is /,
    ],
    [
      'listed under another keyid',
      (l) => (l.keys['ab'.repeat(32)] = { ...l.keys[alice.keyid], keyid: undefined }),
      /^keys\["abab.*"\]: the key's computed keyid is .*, not the keyid it is listed under$/,
    ],
    [
      'private key in layout',
      (l) => (l.keys[alice.keyid].keyval.private = 'aa'),
      /^keys\[".*"\]\.keyval\.private: a layout must not hold a private key$/,
    ],
    [
      'bad public key',
      (l) => (l.keys[alice.keyid].keyval.public = 'zz'),
      /^keys\[".*"\]: an ed25519 public key is 64 lowercase hex characters$/,
    ],
    ['unknown key field', (l) => (l.keys[alice.keyid].color = 'red'), /^keys\[".*"\]\.color: unknown field/],
    [
      'empty public key, no certificate',
      (l) => (l.keys[alice.keyid].keyval.public = ''),
      /^keys\[".*"\]: keyval\.public is empty \(give the public key, or a certificate in keyval\.certificate\)$/,
    ],
    [
      'cert_constraints missing a field',
      (l) => (l.steps[0].cert_constraints = [{ common_name: '*', dns_names: [], emails: [], organizations: [], roots: [] }]),
      /^steps\[0\]\.cert_constraints\[0\]\.uris: is missing/,
    ],
    [
      'rootcas without certificate',
      (l) => (l.rootcas = { [alice.keyid]: l.keys[alice.keyid] }),
      /^rootcas\[".*"\]\.keyval\.certificate: a CA entry needs its PEM certificate$/,
    ],
  ];
  for (const [what, breakIt, expected] of cases) {
    const layout = json(validLayout()) as Loose;
    breakIt(layout);
    const problems = problemsOf(JSON.parse(JSON.stringify(layout)));
    assert.equal(problems.length, 1, `${what}: ${problems.join(' | ')}`);
    assert.match(problems[0]!, expected, what);
  }
});

test('every problem is collected, one line each', () => {
  const layout = json(validLayout()) as Loose;
  layout.expires = 'tomorrow';
  layout.steps[0].threshold = -1;
  layout.steps[1].expected_materials[0] = ['MATCH', 'foo', 'WITH', 'BAR'];
  layout.extra = 1;
  const problems = problemsOf(layout);
  assert.equal(problems.length, 4, problems.join('\n'));
  try {
    parseLayout(layout, 'root.layout');
  } catch (e) {
    assert.equal((e as Error).message.split('\n').length, 4);
  }
});

test('cert_constraints and rootcas of in-toto-golang are kept when present, absent otherwise', () => {
  const layout = json(validLayout()) as Loose;
  layout.steps[1].cert_constraints = [
    { common_name: '*', dns_names: ['*'], emails: ['*'], organizations: ['*'], roots: ['*'], uris: ['spiffe://example.org/ci'] },
  ];
  const parsed = parseLayout(layout);
  assert.deepEqual(parsed.steps[1]!.cert_constraints, layout.steps[1].cert_constraints);
  assert.equal('cert_constraints' in parsed.steps[0]!, false);
  assert.equal('rootcas' in parsed, false);
});

test('expires: accepted and refused exactly as the reference (regex + dateutil) does', async (t) => {
  const { skipUnlessReference, runReferencePython } = await import('../../helpers/reference.js');
  const { expiresProblem } = await import('../../../src/intoto/models/expires.js');
  if (skipUnlessReference(t)) return;
  const candidates: string[] = [];
  for (const y of ['0000', '0001', '1900', '2000', '2023', '2024', '9999'])
    for (const mo of ['00', '01', '02', '04', '12', '13'])
      for (const d of ['00', '01', '28', '29', '30', '31', '32'])
        for (const hms of ['00:00:00', '23:59:59', '24:00:00', '12:60:00', '12:00:60']) candidates.push(`${y}-${mo}-${d}T${hms}Z`);
  candidates.push(
    '2030-01-01T00:00:00',
    '2030-01-01t00:00:00Z',
    '2030-01-01 00:00:00Z',
    '2030-01-01T00:00:00.1Z',
    '2030-1-01T00:00:00Z',
    ' 2030-01-01T00:00:00Z',
    '2030-01-01T00:00:00+00:00',
    '',
  );
  const out = await runReferencePython(
    `import json,sys
from dateutil.parser import parse
import securesystemslib.formats as f
res=[]
for s in json.load(sys.stdin):
  try:
    parse(s); f.ISO8601_DATETIME_SCHEMA.check_match(s); res.append(True)
  except Exception:
    res.append(False)
print(json.dumps(res))`,
    { input: JSON.stringify(candidates) },
  );
  const expected = JSON.parse(out) as boolean[];
  candidates.forEach((c, i) => assert.equal(expiresProblem(c) === undefined, expected[i], c));
  assert.ok(expected.filter(Boolean).length > 100);
});

test('a step naming a keyid missing from keys is accepted, as both references accept it (verification ignores it)', () => {
  const layout = validLayout();
  layout.steps[0]!.pubkeys = [alice.keyid, 'ab'.repeat(32)];
  assert.deepEqual(parseLayout(json(layout)).steps[0]!.pubkeys, [alice.keyid, 'ab'.repeat(32)]);
});
