/**
 * `npm run fuzz -- [TARGET…] [--iterations N | --seconds S] [--seed N] [--out DIR]`: fuzzes the named
 * targets (all without a name, 10 s each), each in a child process of its own, and prints, per target, the
 * inputs run, inputs/s and every finding with the file its reproducer was saved to, a process that died on
 * an input included. Exits 1 when anything crashed or hung.
 * `npm run fuzz -- TARGET --replay FILE…` runs the target on saved inputs (reproducers) and says how each ends.
 * `npm run fuzz -- reference-agreement [--iterations N] [--seed N]` verifies N mutated supply chains (default
 * 2000) with the Python reference and with evident and lists where they disagree (reference-agreement.ts);
 * it exits 1 when a disagreement is not one docs/interop.md explains.
 */
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { fuzz, lastInputFile, outcome, type FuzzBudget, type FuzzReport, type FuzzTarget } from './engine.js';
import { removeSeedFiles } from './seeds.js';
import { TARGETS as PARSER_TARGETS } from './targets.js';

/**
 * With EVIDENT_FUZZ_SELF_TEST=1, one more target, `self-test-abort`, which aborts the process (as a native
 * assertion would) on an input holding a NUL byte: how test/fuzz/fuzz-process.test.ts checks that such a
 * death is reported with its reproducer.
 */
const TARGETS: readonly FuzzTarget[] =
  process.env.EVIDENT_FUZZ_SELF_TEST === '1'
    ? [
        ...PARSER_TARGETS,
        {
          name: 'self-test-abort',
          entry: 'process.abort() on a NUL byte',
          seeds: async () => [Buffer.from('abc')],
          dictionary: ['\u0000'],
          run(input) {
            if (input.includes(0)) process.abort();
          },
        },
      ]
    : PARSER_TARGETS;

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
    child: { type: 'boolean' },
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

// the child: one target in this process, its report as the last line of stdout (runTarget below reads it)
if (values.child) {
  const report = await fuzz(chosen[0]!, budget);
  await removeSeedFiles();
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

let failed = false;
for (const target of chosen) {
  const r = await runTarget(target.name, budget);
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

/**
 * Fuzzes one target in a child process of its own: an input that kills the process outright (a native
 * assertion in node:crypto aborts it, and no JavaScript runs after) is then a finding like any other, its
 * reproducer the input the child was running (engine.ts keeps it in a file), and the other targets still run.
 */
async function runTarget(name: string, b: FuzzBudget): Promise<FuzzReport> {
  const { spawn } = await import('node:child_process');
  const { createHash } = await import('node:crypto');
  const { existsSync, renameSync } = await import('node:fs');
  const args = [process.execArgv, fileURLToPath(import.meta.url), name, '--child', '--out', b.outDir].flat();
  if (b.iterations !== undefined) args.push('--iterations', String(b.iterations));
  if (b.seconds !== undefined) args.push('--seconds', String(b.seconds));
  if (b.seed !== undefined) args.push('--seed', String(b.seed));
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-65536)));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  const last = stdout.trim().split('\n').pop() ?? '';
  if (code === 0 && last.startsWith('{')) return JSON.parse(last) as FuzzReport;
  // died: the input it was running is the reproducer
  const kept = lastInputFile(b.outDir, name);
  let reproducer = '(the input was not kept)';
  if (existsSync(kept)) {
    const input = readFileSync(kept);
    reproducer = join(dirname(kept), `crash-${createHash('sha256').update(input).digest('hex').slice(0, 16)}.bin`);
    renameSync(kept, reproducer);
  }
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const said = lines.find((l) => /Assertion|Error|FATAL/.test(l)) ?? lines[0] ?? 'it said nothing';
  const how = signal ?? `exit code ${code}`;
  return {
    target: name,
    inputs: 0,
    seconds: (performance.now() - started) / 1000,
    findings: [
      {
        target: name,
        kind: 'crash',
        signature: `process died (${how})`,
        message: `the fuzzing process died (${how}): ${said}`,
        reproducer,
        count: 1,
      },
    ],
  };
}

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
