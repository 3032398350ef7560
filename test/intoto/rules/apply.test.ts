import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../../../src/intoto/models/rule.js';
import { applyArtifactRules, indexArtifacts, sameHashes } from '../../../src/intoto/rules/apply.js';
import type { ArtifactType, LinkArtifacts } from '../../../src/intoto/rules/types.js';
import { packedArtifacts } from '../../helpers/packed.js';

const h = (s: string) => ({ sha256: s.padEnd(64, '0') });

function linkOf(materials: Record<string, string>, products: Record<string, string>): LinkArtifacts {
  const dict = (m: Record<string, string>) => indexArtifacts(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, h(v)])));
  return { materials: dict(materials), products: dict(products) };
}

function apply(item: string, type: ArtifactType, rules: string[], links: Record<string, LinkArtifacts>) {
  return applyArtifactRules({
    item,
    type,
    rules: rules.map((r, i) => parseRule(r.split(' '), `r${i}`)),
    links: new Map(Object.entries(links)),
  });
}

test('rules: an empty queue passes every rule, DISALLOW * included', () => {
  const r = apply('s', 'materials', ['ALLOW *', 'DISALLOW *'], { s: linkOf({}, {}) });
  assert.equal(r.failure, undefined);
  assert.equal(r.total, 0);
});

test('rules: no rules at all pass, whatever the artifacts', () => {
  const r = apply('s', 'products', [], { s: linkOf({}, { a: '1' }) });
  assert.equal(r.failure, undefined);
  assert.equal(r.remaining, 1);
});

test('rules: DISALLOW fails on what earlier rules left; ALLOW after it does not help (application stops)', () => {
  const r = apply('s', 'products', ['ALLOW a', 'DISALLOW *', 'ALLOW b'], { s: linkOf({}, { a: '1', b: '2' }) });
  assert.equal(r.failure?.kind, 'disallowed');
  assert.deepEqual(r.failure?.kind === 'disallowed' && r.failure.paths, ['b']);
  assert.equal(r.results.length, 2, 'rules after the failing DISALLOW are not applied');
  assert.deepEqual(r.results[0]!.consumed, ['a']);
});

test('rules: a DISALLOW that matches nothing lets later rules run', () => {
  const r = apply('s', 'products', ['DISALLOW c*', 'ALLOW a', 'DISALLOW *'], { s: linkOf({}, { a: '1' }) });
  assert.equal(r.failure, undefined);
  assert.equal(r.results.length, 3);
});

test("rules: CREATE, DELETE and MODIFY are relative to the item's own materials and products", () => {
  const own = linkOf({ kept: '1', changed: '1', gone: '1' }, { kept: '1', changed: '2', fresh: '3' });
  const products = apply('s', 'products', ['CREATE *', 'MODIFY *', 'DISALLOW *'], { s: own });
  assert.equal(products.failure?.kind, 'disallowed');
  assert.deepEqual(products.failure?.kind === 'disallowed' && products.failure.paths, ['kept']);
  assert.deepEqual(products.results[0]!.consumed, ['fresh']);
  assert.deepEqual(products.results[1]!.consumed, ['changed']);
  const materials = apply('s', 'materials', ['DELETE *', 'MODIFY *', 'CREATE *', 'ALLOW kept', 'DISALLOW *'], { s: own });
  assert.equal(materials.failure, undefined);
  assert.deepEqual(materials.results[0]!.consumed, ['gone']);
  assert.deepEqual(materials.results[2]!.consumed, [], 'CREATE consumes no material');
});

test('rules: REQUIRE looks for its literal file name on the queue (a consumed file is not there)', () => {
  const own = linkOf({}, { 'a*': '1', b: '2' });
  assert.equal(apply('s', 'products', ['REQUIRE a*'], { s: own }).failure, undefined, 'the pattern is taken literally');
  const missing = apply('s', 'products', ['REQUIRE c'], { s: own });
  assert.deepEqual(missing.failure && { kind: missing.failure.kind, path: 'path' in missing.failure && missing.failure.path }, {
    kind: 'required',
    path: 'c',
  });
  const consumed = apply('s', 'products', ['ALLOW b', 'REQUIRE b'], { s: own });
  assert.equal(consumed.failure?.kind, 'required');
  assert.equal(consumed.failure?.kind === 'required' && consumed.failure.consumedBy?.type, 'ALLOW');
});

test('rules: MATCH consumes artifacts with identical digests at the same path in the destination', () => {
  const links = {
    code: linkOf({}, { 'src/a.c': '1', 'src/b.c': '2' }),
    build: linkOf({ 'src/a.c': '1', 'src/b.c': '9', 'src/c.c': '3' }, {}),
  };
  const r = apply('build', 'materials', ['MATCH src/* WITH PRODUCTS FROM code', 'DISALLOW *'], links);
  assert.deepEqual(r.results[0]!.consumed, ['src/a.c']);
  assert.equal(r.failure?.kind, 'disallowed');
  const f = r.failure as Extract<typeof r.failure, { kind: 'disallowed' }>;
  assert.deepEqual(f.paths, ['src/b.c', 'src/c.c']);
  assert.deepEqual(
    f.misses.map((m) => [m.path, m.reason]),
    [
      ['src/b.c', 'hash-mismatch'],
      ['src/c.c', 'not-in-destination'],
    ],
  );
  assert.deepEqual(f.misses[0]!.expected, h('2'));
  assert.deepEqual(f.misses[0]!.found, h('9'));
});

test('rules: MATCH with a source prefix strips it before globbing and never globs the prefix', () => {
  const links = { code: linkOf({}, { 'a.c': '1', 'x.c': '5' }), build: linkOf({ 'src/a.c': '1', 'srcx.c': '5', 'src/sub/x.c': '5' }, {}) };
  const r = apply('build', 'materials', ['MATCH *.c IN src WITH PRODUCTS FROM code'], links);
  assert.deepEqual(r.results[0]!.consumed, ['src/a.c'], "'srcx.c' is not under 'src/', 'src/sub/x.c' maps to 'sub/x.c'");
  const slash = apply('build', 'materials', ['MATCH *.c IN src/ WITH PRODUCTS FROM code'], links);
  assert.deepEqual(slash.results[0]!.consumed, ['src/a.c'], 'a trailing slash on the prefix is the same prefix');
});

test('rules: MATCH with a destination prefix looks the remainder up under it', () => {
  const links = { code: linkOf({}, { 'dist/a.c': '1', 'a.c': '7' }), build: linkOf({ 'a.c': '1' }, {}) };
  const r = apply('build', 'materials', ['MATCH * WITH PRODUCTS IN dist FROM code'], links);
  assert.deepEqual(r.results[0]!.consumed, ['a.c']);
});

test('rules: MATCH with prefixes on both sides', () => {
  const links = {
    code: linkOf({}, { 'out/lib/a.so': '1', 'out/lib/b.so': '2' }),
    pkg: linkOf({ 'in/a.so': '1', 'in/b.so': '3', 'other/a.so': '1' }, {}),
  };
  const r = apply('pkg', 'materials', ['MATCH *.so IN in WITH PRODUCTS IN out/lib FROM code', 'DISALLOW in/*'], links);
  assert.deepEqual(r.results[0]!.consumed, ['in/a.so']);
  const f = r.failure as Extract<typeof r.failure, { kind: 'disallowed' }>;
  assert.deepEqual(f.paths, ['in/b.so']);
  assert.equal(f.misses[0]!.destinationPath, 'out/lib/b.so');
});

test('rules: MATCH FROM a step with no link consumes nothing (and says so when a DISALLOW catches it)', () => {
  const r = apply('build', 'materials', ['MATCH * WITH PRODUCTS FROM ghost', 'DISALLOW *'], { build: linkOf({ a: '1' }, {}) });
  assert.deepEqual(r.results[0]!.consumed, []);
  const f = r.failure as Extract<typeof r.failure, { kind: 'disallowed' }>;
  assert.equal(f.misses[0]!.reason, 'no-destination-link');
});

test('rules: MATCH against MATERIALS of the destination and keys that are Object.prototype names', () => {
  const parsed = (json: string) => JSON.parse(json) as Record<string, string>;
  const links = {
    a: linkOf(parsed('{"constructor":"1","__proto__":"2"}'), {}),
    b: linkOf(parsed('{"constructor":"1","__proto__":"2","toString":"3"}'), {}),
  };
  const r = apply('b', 'materials', ['MATCH * WITH MATERIALS FROM a', 'DISALLOW *'], links);
  assert.deepEqual([...r.results[0]!.consumed].sort(), ['__proto__', 'constructor']);
  const f = r.failure as Extract<typeof r.failure, { kind: 'disallowed' }>;
  assert.deepEqual(f.paths, ['toString']);
});

test('rules: rule keywords in any case, as the reference accepts them', () => {
  const r = apply('s', 'products', ['allow a', 'disallow *'], { s: linkOf({}, { a: '1' }) });
  assert.equal(r.failure, undefined);
});

test('rules: digests compare as whole dictionaries', () => {
  assert.equal(sameHashes({ sha256: 'a' }, { sha256: 'a' }), true);
  assert.equal(sameHashes({ sha256: 'a' }, { sha256: 'a', sha512: 'b' }), false);
  assert.equal(sameHashes({ sha256: 'a' }, { sha512: 'a' }), false);
});

test('rules: 200 000 artifacts through MATCH, CREATE and DISALLOW stay fast', () => {
  const n = 200_000;
  const m: Record<string, { sha256: string }> = {};
  for (let i = 0; i < n; i++) m[`src/dir${i % 100}/file${i}.c`] = h(String(i % 1000));
  const code: LinkArtifacts = { materials: new Map(), products: indexArtifacts(m) };
  const build: LinkArtifacts = { materials: indexArtifacts(m), products: new Map([['out.bin', h('x')]]) };
  const started = Date.now();
  const r = applyArtifactRules({
    item: 'build',
    type: 'materials',
    rules: [parseRule(['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'code'], 'r'), parseRule(['DISALLOW', '*'], 'r')],
    links: new Map([
      ['code', code],
      ['build', build],
    ]),
  });
  assert.equal(r.failure, undefined);
  assert.equal(r.results[0]!.consumed.length, n);
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
});

test('rules: a MATCH whose source path is another artifact (a backslash in the name) consumes that artifact', () => {
  // 'src/b\c.c' maps to the source path 'src/b/c.c': that artifact is consumed, the queued name stays
  const links = {
    code: linkOf({}, { 'b\\c.c': '2', 'd.c': '3' }),
    build: linkOf({ 'src/x.c': '9', 'src/b\\c.c': '2', 'src/b/c.c': '2', 'src/d.c': '3' }, {}),
  };
  const r = apply('build', 'materials', ['MATCH * IN src WITH PRODUCTS FROM code', 'DISALLOW *'], links);
  assert.deepEqual(r.results[0]!.consumed, ['src/b/c.c', 'src/d.c']);
  const f = r.failure as Extract<typeof r.failure, { kind: 'disallowed' }>;
  assert.deepEqual(f.paths, ['src/b\\c.c', 'src/x.c']);
  assert.deepEqual(
    f.misses.map((m) => [m.path, m.reason]),
    [['src/x.c', 'not-in-destination']],
  );
  assert.equal(r.remaining, 2);
});

test('rules: CREATE and DELETE look only at the other list; the queue keeps the link order', () => {
  const links = { s: linkOf({ gone: '1', kept: '2', 'z-first': '3' }, { 'z-first': '3', kept: '2', made: '4' }) };
  const products = apply('s', 'products', ['CREATE *', 'ALLOW kept'], links);
  assert.deepEqual(
    products.results.map((x) => x.consumed),
    [['made'], ['kept']],
  );
  assert.equal(products.remaining, 1);
  const materials = apply('s', 'materials', ['DELETE *', 'MATCH * WITH PRODUCTS FROM s'], links);
  assert.deepEqual(
    materials.results.map((x) => x.consumed),
    [['gone'], ['kept', 'z-first']],
  );
});

test('rules: packed lists (as read from link files) give exactly what plain dictionaries give, misses included', () => {
  let s = 11;
  const random = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const paths = [
    'a',
    'b',
    'a.c',
    'src/a',
    'src/b',
    'src/a.c',
    'src/é',
    'src/\u{1F600}',
    'out/a',
    'out/src/a',
    '10',
    '__proto__',
    'src/x/y',
  ];
  const patterns = ['*', 'a*', '*.c', 'src/*', '?', '[ab]', 'src/?', '*a*'];
  const dict = () => {
    const out: Record<string, { sha256: string }> = JSON.parse('{}') as Record<string, { sha256: string }>;
    for (const p of paths) if (random() < 0.5) Object.defineProperty(out, p, { value: { sha256: pick(['aa', 'bb']) }, enumerable: true });
    return out;
  };
  const rule = () => {
    const kind = pick(['MATCH', 'MATCH', 'CREATE', 'DELETE', 'MODIFY', 'ALLOW', 'DISALLOW', 'REQUIRE']);
    if (kind === 'REQUIRE') return [kind, pick(paths)];
    if (kind !== 'MATCH') return [kind, pick(patterns)];
    const r = ['MATCH', pick(patterns)];
    if (random() < 0.4) r.push('IN', pick(['src', 'out', 'out/src']));
    r.push('WITH', pick(['MATERIALS', 'PRODUCTS']));
    if (random() < 0.4) r.push('IN', pick(['src', 'out']));
    r.push('FROM', pick(['other', 'other', 'ghost']));
    return r;
  };
  const normal = (r: ReturnType<typeof applyArtifactRules>) => ({
    ...r,
    results: r.results.map((x) => ({ rule: x.rule, consumed: [...x.consumed].sort() })),
  });
  for (let i = 0; i < 400; i++) {
    const lists = { item: { materials: dict(), products: dict() }, other: { materials: dict(), products: dict() } };
    const rules = Array.from({ length: 1 + Math.floor(random() * 5) }, rule).map((r, j) => parseRule(r, `r${j}`));
    const type = pick(['materials', 'products'] as const);
    const run = (index: (d: Record<string, { sha256: string }>) => LinkArtifacts['materials']) =>
      applyArtifactRules({
        item: 'item',
        type,
        rules,
        links: new Map(Object.entries(lists).map(([n, l]) => [n, { materials: index(l.materials), products: index(l.products) }])),
      });
    const plain = run(indexArtifacts);
    const packed = run((d) => packedArtifacts(d)!);
    assert.deepEqual(normal(packed), normal(plain), `case ${i}: ${type} ${JSON.stringify(rules)} ${JSON.stringify(lists)}`);
  }
});
