/**
 * Every fuzz target for a short fixed budget, so CI catches a parser that starts crashing or hanging on
 * mutated input (the long run is `npm run fuzz`). Fixed seeds: a failure here reproduces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvidentError } from '../../src/errors.js';
import { fuzz, HANG_MS, type FuzzTarget } from './engine.js';
import { removeSeedFiles } from './seeds.js';
import { TARGETS } from './targets.js';

/** 22 targets at 2 s: the file stays under a minute, also on a loaded 2-core machine (the budget is wall time). */
const SECONDS = 2;
const outDir = mkdtempSync(join(tmpdir(), 'evident-fuzz-smoke-'));

test.after(async () => {
  rmSync(outDir, { recursive: true, force: true });
  await removeSeedFiles();
});

for (const target of TARGETS) {
  test(`fuzz ${target.name}: ${target.entry}`, async () => {
    const report = await fuzz(target, { seconds: SECONDS, seed: 20, outDir });
    assert.ok(report.inputs > 10, `${target.name}: only ${report.inputs} inputs ran`);
    assert.deepEqual(
      report.findings.map((f) => `${f.kind}: ${f.message} (${f.reproducer})`),
      [],
      `${target.name}: inputs that crashed or hung`,
    );
  });
}

test('the oracle reports a foreign error and a hang, each with a reproducer', async () => {
  let stalled = false;
  const broken: FuzzTarget = {
    name: 'oracle-check',
    entry: 'a parser that throws TypeError on a NUL byte and stalls on one input',
    seeds: async () => [Buffer.from('abc'), Buffer.from('stall')],
    run(input) {
      if (input.includes(0)) throw new TypeError('Cannot read properties of undefined');
      if (input.equals(Buffer.from('stall')) && !stalled) {
        stalled = true;
        // the oracle counts CPU time (a loaded machine must not make a hang), so the stall burns CPU time too
        const start = process.cpuUsage();
        const burned = () => {
          const used = process.cpuUsage(start);
          return (used.user + used.system) / 1000;
        };
        while (burned() < HANG_MS + 100);
      }
    },
    dictionary: ['\u0000'],
  };
  const report = await fuzz(broken, { iterations: 2000, seed: 3, outDir });
  const crash = report.findings.find((f) => f.kind === 'crash');
  assert.match(crash?.message ?? 'no crash reported', /^TypeError: Cannot read/);
  assert.ok(readFileSync(crash!.reproducer).includes(0), 'the reproducer is not the crashing input');
  const hang = report.findings.find((f) => f.kind === 'hang');
  assert.equal(hang && readFileSync(hang.reproducer, 'utf8'), 'stall');
});

test('inputs a parser refuses with an EvidentError are no finding', async () => {
  const strict: FuzzTarget = {
    name: 'oracle-typed',
    entry: 'a parser that refuses everything but its seed',
    seeds: async () => [Buffer.from('ok')],
    run(input) {
      if (!input.equals(Buffer.from('ok'))) throw new EvidentError('BAD_INPUT', 'not ok');
    },
  };
  const report = await fuzz(strict, { iterations: 500, seed: 4, outDir });
  assert.equal(report.inputs, 500);
  assert.deepEqual(report.findings, []);
});
