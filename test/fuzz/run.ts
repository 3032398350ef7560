/**
 * `npm run fuzz -- [TARGET…] [--iterations N | --seconds S] [--seed N] [--out DIR]`: fuzzes the named
 * targets (all without a name, 10 s each) and prints, per target, the inputs run, inputs/s and every
 * finding with the file its reproducer was saved to. Exits 1 when anything crashed or hung.
 * `npm run fuzz -- TARGET --replay FILE…` runs the target on saved inputs (reproducers) and says how each ends.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { fuzz, outcome, type FuzzBudget } from './engine.js';
import { removeSeedFiles } from './seeds.js';
import { TARGETS } from './targets.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    iterations: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    list: { type: 'boolean' },
    replay: { type: 'boolean' },
  },
});

if (values.list) {
  for (const t of TARGETS) console.log(`${t.name.padEnd(16)} ${t.entry}`);
  process.exit(0);
}
if (values.replay) {
  const [name, ...files] = positionals;
  const target = TARGETS.find((t) => t.name === name);
  if (target === undefined || files.length === 0) {
    console.error('fuzz: --replay takes a target and the files to run it on');
    process.exit(2);
  }
  let bad = false;
  for (const file of files) {
    const result = await outcome(target, readFileSync(file));
    bad ||= result.kind !== 'ok';
    console.log(`${file}: ${result.kind}${result.kind === 'ok' ? '' : `: ${result.message}`} (${Math.round(result.cpuMs)} ms of CPU)`);
  }
  await removeSeedFiles();
  process.exit(bad ? 1 : 0);
}
const unknown = positionals.filter((p) => !TARGETS.some((t) => t.name === p));
if (unknown.length > 0) {
  console.error(`fuzz: unknown target ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const chosen = positionals.length === 0 ? TARGETS : TARGETS.filter((t) => positionals.includes(t.name));
const budget: FuzzBudget = {
  outDir: values.out ?? join(tmpdir(), 'evident-fuzz-findings'),
  ...(values.iterations !== undefined ? { iterations: Number(values.iterations) } : {}),
  ...(values.seconds !== undefined ? { seconds: Number(values.seconds) } : {}),
  ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
};
if (budget.iterations === undefined && budget.seconds === undefined) budget.seconds = positionals.length === 0 ? 10 : 60;

let failed = false;
for (const target of chosen) {
  const r = await fuzz(target, budget);
  const rate = Math.round(r.inputs / r.seconds);
  console.log(
    `${r.target.padEnd(16)} ${String(r.inputs).padStart(9)} inputs ${r.seconds.toFixed(1).padStart(7)} s ${String(rate).padStart(7)}/s  ${r.findings.length} findings`,
  );
  for (const f of r.findings) {
    failed = true;
    console.log(`  ${f.kind} ×${f.count}: ${f.signature}\n    ${f.message}\n    reproducer: ${f.reproducer}`);
  }
}
await removeSeedFiles();
process.exit(failed ? 1 : 0);
