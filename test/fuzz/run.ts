/**
 * `npm run fuzz -- [TARGET…] [--iterations N | --seconds S] [--seed N] [--out DIR]`: fuzzes the named
 * targets (all without a name, 10 s each) and prints, per target, the inputs run, inputs/s and every
 * finding with the file its reproducer was saved to. Exits 1 when anything crashed or hung.
 * `npm run fuzz -- TARGET --replay FILE…` runs the target on saved inputs (reproducers) and says how each ends.
 * `npm run fuzz -- reference-agreement [--iterations N] [--seed N]` verifies N mutated supply chains (default
 * 2000) with the Python reference and with evident and lists where they disagree (reference-agreement.ts);
 * it exits 1 when a disagreement is not one docs/interop.md explains.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { fuzz, outcome, type FuzzBudget } from './engine.js';
import { removeSeedFiles } from './seeds.js';
import { TARGETS } from './targets.js';

/** The target that compares verdicts with the Python reference instead of looking for crashes. */
const AGREEMENT = 'reference-agreement';

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
  console.log(`${AGREEMENT.padEnd(16)} the Python reference's in-toto-verify and evident verify agree on mutated supply chains`);
  process.exit(0);
}
if (positionals[0] === AGREEMENT)
  process.exit(await referenceAgreement(Number(values.iterations ?? 2000), Number(values.seed ?? Date.now() % 2 ** 31)));
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
if (unknown.length > 0 && positionals.includes(AGREEMENT)) {
  console.error(`fuzz: ${AGREEMENT} runs on its own (it needs the Python reference, not the byte mutator)`);
  process.exit(2);
}
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

/** Runs the reference-agreement corpus; its exit code: 1 when a disagreement is unexplained. */
async function referenceAgreement(count: number, seed: number): Promise<number> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { referenceInstalled } = await import('../helpers/reference.js');
  const { describe, judge, makeBases, makeCases } = await import('./reference-agreement.js');
  if (!referenceInstalled) {
    console.error('fuzz: reference-agreement needs the Python reference (apt-get install in-toto)');
    return 2;
  }
  const dir = await mkdtemp(join(tmpdir(), 'evident-agreement-'));
  try {
    const started = Date.now();
    const results = await judge(makeCases(await makeBases(dir), count, seed), join(dir, 'corpus'));
    console.log(`${describe(results)}\n(seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return results.some((r) => r.reference.verdict !== r.evident.verdict && r.explained === undefined) ? 1 : 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
