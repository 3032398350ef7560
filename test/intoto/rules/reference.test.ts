/**
 * Differential test of the rule engine against the reference's own `verifylib.verify_item_rules`: random
 * artifacts and random rules (every rule type, MATCH with and without prefixes on either side, FROM a
 * step with and without a link); after every rule the queue must be the same, and so must pass/fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../../../src/intoto/models/rule.js';
import type { ArtifactDict } from '../../../src/intoto/models/types.js';
import { applyArtifactRules, indexArtifacts } from '../../../src/intoto/rules/apply.js';
import type { ArtifactType, LinkArtifacts } from '../../../src/intoto/rules/types.js';
import { packedArtifacts } from '../../helpers/packed.js';
import { runReferencePython, skipUnlessReference } from '../../helpers/reference.js';

interface Case {
  type: ArtifactType;
  rules: string[][];
  links: Record<string, { materials: ArtifactDict; products: ArtifactDict }>;
}

const PATHS = ['a', 'b', 'a.c', 'src/a', 'src/b', 'src/a.c', 'src/x/y', 'out/a', 'out/src/a', 'srcx', '.hidden', 'src/.b'];
const PATTERNS = ['*', 'a*', '*.c', 'src/*', '?', 'src/?', '[ab]', '[!a]*', 'a', 'src/a', 'x/*', '*/a', '.*'];
const PREFIXES = ['src', 'src/', 'out', 'out/src', 'x'];

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function generate(count: number): Case[] {
  const random = prng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const dict = (): ArtifactDict => {
    const out: ArtifactDict = {};
    for (const p of PATHS) if (random() < 0.45) out[p] = { sha256: pick(['aa', 'bb']).repeat(32) };
    return out;
  };
  const rule = (): string[] => {
    const kind = pick(['MATCH', 'MATCH', 'MATCH', 'CREATE', 'DELETE', 'MODIFY', 'ALLOW', 'DISALLOW', 'DISALLOW', 'REQUIRE']);
    if (kind === 'REQUIRE') return [kind, pick(PATHS)];
    if (kind !== 'MATCH') return [kind, pick(PATTERNS)];
    const r = ['MATCH', pick(PATTERNS)];
    if (random() < 0.4) r.push('IN', pick(PREFIXES));
    r.push('WITH', pick(['MATERIALS', 'PRODUCTS']));
    if (random() < 0.4) r.push('IN', pick(PREFIXES));
    r.push('FROM', pick(['other', 'other', 'other', 'ghost']));
    return r;
  };
  return Array.from({ length: count }, () => ({
    type: pick(['materials', 'products'] as const),
    rules: Array.from({ length: 1 + Math.floor(random() * 5) }, rule),
    links: { item: { materials: dict(), products: dict() }, other: { materials: dict(), products: dict() } },
  }));
}

const SCRIPT = String.raw`
import json, sys
from types import SimpleNamespace
from in_toto import verifylib
from in_toto.exceptions import RuleVerificationError
out = []
for c in json.load(sys.stdin):
    links = {name: SimpleNamespace(signed=SimpleNamespace(**l)) for name, l in c['links'].items()}
    try:
        verifylib.verify_item_rules('item', c['type'], c['rules'], links)
        ok = True
    except RuleVerificationError:
        ok = False
    except KeyError:
        ok = 'crash'
    out.append({'ok': ok, 'queues': [sorted(t['queue']) for t in verifylib.RULE_TRACE['trace']]})
json.dump(out, sys.stdout)
`;

test('rules agree with the reference verify_item_rules on 600 random cases, queue by queue, plain and packed', async (t) => {
  if (skipUnlessReference(t)) return;
  const generated = generate(600);
  const cases = generated.flatMap((c) => [c, c]);
  const expected = JSON.parse(await runReferencePython(SCRIPT, { input: JSON.stringify(generated) })) as {
    ok: boolean | 'crash';
    queues: string[][];
  }[];
  let failures = 0;
  // each case twice: over plain dictionaries, and packed as links read from files hold their artifacts
  const indexes = { plain: indexArtifacts, packed: (d: ArtifactDict) => packedArtifacts(d)! };
  cases.forEach((c, n) => {
    const i = n >> 1;
    const how = n % 2 === 0 ? 'plain' : 'packed';
    const index = indexes[how];
    const links = new Map<string, LinkArtifacts>(
      Object.entries(c.links).map(([name, l]) => [name, { materials: index(l.materials), products: index(l.products) }]),
    );
    const result = applyArtifactRules({ item: 'item', type: c.type, rules: c.rules.map((r, j) => parseRule(r, `rule ${j}`)), links });
    const want = expected[i]!;
    const label = `case ${i} (${how}): ${c.type} ${JSON.stringify(c.rules)}`;
    if (want.ok === 'crash') {
      assert.equal(result.failure?.kind, 'unresolvable', label);
      return;
    }
    assert.equal(result.failure === undefined, want.ok, label);
    if (!want.ok) failures++;
    // The reference appends the queue only after a rule that did not raise.
    const ours = result.results.slice(0, want.queues.length);
    let queue = new Set(Object.keys(c.links.item![c.type]));
    ours.forEach((r, j) => {
      for (const p of r.consumed) queue.delete(p);
      queue = new Set(queue);
      assert.deepEqual([...queue].sort(), want.queues[j], `${label}: queue after rule ${j}`);
    });
  });
  assert.ok(failures > 100 && failures < 1100, `a useful mix of passing and failing cases (${failures} failed)`);
});
