/**
 * The Python reference and evident agree on accept or reject over a generated corpus of mutated supply
 * chains (reference-agreement.ts), except for the differences docs/interop.md lists, each shown here on a
 * case of its own. A fixed seed: a failure reproduces with `npm run fuzz -- reference-agreement --seed 18`
 * (that command also runs the larger corpus).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceInstalled, skipUnlessReference } from '../helpers/reference.js';
import { describe, judge, makeBases, makeCase, makeCases, MUTATIONS, type Base } from './reference-agreement.js';

/** About 30 s on an idle 2-core machine: the reference runs every case in one interpreter, evident in this process. */
const CASES = 240;
const SEED = 18;

let dir: string;
let bases: Base[];

before(async () => {
  if (!referenceInstalled) return;
  dir = await mkdtemp(join(tmpdir(), 'evident-agreement-'));
  bases = await makeBases(dir);
});

after(() => (dir === undefined ? undefined : rm(dir, { recursive: true, force: true })));

test(`the reference and evident agree on ${CASES} mutated supply chains, but for the documented differences`, async (t) => {
  if (skipUnlessReference(t)) return;
  const results = await judge(makeCases(bases, CASES, SEED), join(dir, 'corpus'));
  const summary = describe(results);
  for (const line of summary.split('\n')) t.diagnostic(line);
  // the unchanged chains pass both: the corpus starts from chains both accept
  for (const r of results.slice(0, bases.length)) {
    assert.deepEqual([r.reference.verdict, r.evident.verdict], ['accept', 'accept'], `${r.case.base}\n${summary}`);
  }
  // not a vacuous corpus: many cases each way
  const both = (v: string) => results.filter((r) => r.reference.verdict === v && r.evident.verdict === v).length;
  assert.ok(both('accept') >= CASES / 10, summary);
  assert.ok(both('reject') >= CASES / 2, summary);
  const unexplained = results.filter((r) => r.reference.verdict !== r.evident.verdict && r.explained === undefined);
  assert.equal(unexplained.length, 0, summary);
});

test('each documented difference shows on a case of its own, in the direction docs/interop.md gives', async (t) => {
  if (skipUnlessReference(t)) return;
  const documented = MUTATIONS.filter((m) => m.differs !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(
    documented.map((m) => m.name),
    ['layout.threshold-0', 'link.name-changed', 'link.signature-extra-field'],
  );
  const cases = documented.map((m, i) => makeCase(bases[i % bases.length]!, [m.name], 1000 + i));
  const results = await judge(cases, join(dir, 'differences'));
  for (const [i, r] of results.entries()) {
    const d = documented[i]!.differs!;
    assert.deepEqual(
      [r.reference.verdict, r.evident.verdict],
      [d.reference, d.evident],
      `${documented[i]!.name}: reference ${r.reference.message}; evident ${r.evident.message}`,
    );
  }
});
