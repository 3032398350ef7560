/**
 * `npm run bench -- policy [--findings=N] [--min-rate=X]`: attestation rules (docs/policy.md), in this
 * process, on one core:
 *   - rule evaluations per second over a vulnerability attestation of 10 000 findings (by default), for
 *     simple rules (a field, a size, the signer: what most policy reads) and for rules that go through
 *     every finding, each evaluation as verification makes it (cost bound, then the planned expression);
 *     goal: ≥ 100 000 simple rule evaluations per second;
 *   - the time rules add to a verification: the same one-step chain verified with and without an expected
 *     predicate (a vulnerability attestation and two rules), medians of several runs, for a demo-sized
 *     attestation (20 findings; goal: ≤ 50 ms) and for the large one; and the time a fresh process takes
 *     to load CEL, which a verification of a layout with rules adds once.
 * `--min-rate=X` makes a simple rule evaluated fewer than X times a second an error (exit 1).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signEnvelope } from '../src/crypto/dsse.js';
import { generatePrivateKey } from '../src/crypto/key-files.js';
import { serializeMetablock, signMetablock } from '../src/intoto/models/metablock.js';
import type { ExpectedPredicate, Layout, Link } from '../src/intoto/models/types.js';
import { compileRule, type CompiledRule } from '../src/intoto/policy/compile-rule.js';
import { largestCollection } from '../src/intoto/policy/cost.js';
import { celJson } from '../src/intoto/policy/json-values.js';
import { evaluateRule } from '../src/intoto/policy/evaluate.js';
import type { RuleBindings } from '../src/intoto/policy/rule-env.js';
import { verify } from '../src/intoto/verify/verify.js';
import { recordDemoChain } from './_demo-chain.js';
import { numberFlag } from './_flags.js';

const VULNS = 'https://in-toto.io/attestation/vulns';
const GOAL = 100_000;
/** What the demo's attestation rules may add to the deployer's `evident verify` (issue 16). */
const DEMO_GOAL_MS = 50;

const SIMPLE = [
  `predicateType == '${VULNS}'`,
  "predicate.scanner.uri.startsWith('pkg:github/aquasecurity/trivy')",
  'size(predicate.scanner.result) < 20000',
  "signer.keyid != '' && timestamp == null",
  "subject.exists(s, s.name == 'app.tar')",
];
const EVERY_FINDING = [
  "predicate.scanner.result.all(f, f.severity != 'CRITICAL')",
  "predicate.scanner.result.filter(f, f.severity == 'HIGH').size() < 5000",
];

export default async function bench(flags: string[]): Promise<void> {
  const n = numberFlag(flags, '--findings', { whole: true }) ?? 10_000;
  const minRate = numberFlag(flags, '--min-rate');
  const predicate = vulnerabilities(n);
  // as verification binds them (verify/attestations.ts)
  const bindings: RuleBindings = {
    subject: celJson([{ name: 'app.tar', digest: { sha256: sha256('app') } }]),
    predicateType: VULNS,
    predicate: celJson(predicate),
    signer: celJson({ keyid: 'a'.repeat(64), spiffeId: null }),
    timestamp: null,
  };
  const largest = largestCollection(predicate);
  process.stdout.write(`attestation: ${n} findings (${(JSON.stringify(predicate).length / 1e6).toFixed(1)} MB of predicate); one core\n`);
  let slowestSimple = Infinity;
  for (const text of [...SIMPLE, ...EVERY_FINDING]) {
    const rule = compileRule(text) as CompiledRule;
    if ('problem' in rule) throw new Error(`${text}: ${(rule as { problem: string }).problem}`);
    const rate = evaluationsPerSecond(rule, bindings, largest, SIMPLE.includes(text) ? 1000 : 2000);
    if (SIMPLE.includes(text)) slowestSimple = Math.min(slowestSimple, rate);
    process.stdout.write(`  ${rate.toFixed(0).padStart(9)} evaluations/s  ${text}\n`);
  }
  process.stdout.write(
    `simple rules:   the slowest ${slowestSimple.toFixed(0)} evaluations/s (goal ≥ ${GOAL}) ${slowestSimple >= GOAL ? 'OK' : 'MISSED'}\n`,
  );
  process.stdout.write(`loading CEL:    ${loadMs().toFixed(0)} ms in a fresh process (once per verification of a layout with rules)\n`);
  for (const findings of [20, n]) {
    const added = await addedVerificationTime(findings);
    process.stdout.write(
      `verification:   ${findings} findings: ${added.without.toFixed(1)} ms without, ${added.with.toFixed(1)} ms with the expected predicate (the attestation, 2 rules): +${(added.with - added.without).toFixed(1)} ms (medians of ${added.runs})\n`,
    );
  }
  const demo = await demoChainAddedTime();
  process.stdout.write(
    `demo's chain:   evident verify, a fresh process each: ${demo.without.toFixed(0)} ms without, ${demo.with.toFixed(0)} ms with its 2 attestation rules: +${(demo.with - demo.without).toFixed(0)} ms (medians of ${demo.runs}; goal ≤ ${DEMO_GOAL_MS} ms) ${demo.with - demo.without <= DEMO_GOAL_MS ? 'OK' : 'MISSED'}\n`,
  );
  if (minRate !== undefined && slowestSimple < minRate) {
    throw new Error(`a simple rule is evaluated only ${slowestSimple.toFixed(0)} times a second; at least ${minRate} is required`);
  }
}

/** How long a fresh Node process takes to load what a layout with rules loads: CEL and the protobuf runtime under it. */
function loadMs(): number {
  const code =
    "const t = performance.now(); await import('@bufbuild/cel'); await import('@bufbuild/protobuf/wkt'); console.log(performance.now() - t);";
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`bench: loading CEL failed: ${child.stderr}`);
  return Number(child.stdout.trim());
}

/** Evaluations per second of one rule, after a warm-up, over about `ms` milliseconds. */
function evaluationsPerSecond(rule: CompiledRule, bindings: RuleBindings, largest: number, ms: number): number {
  const check = (outcome: ReturnType<typeof evaluateRule>) => {
    if (outcome.kind !== 'true') throw new Error(`bench: ${rule.text} gave ${JSON.stringify(outcome)}`);
  };
  for (let i = 0; i < 20; i++) check(evaluateRule(rule, bindings, largest));
  let count = 0;
  const started = performance.now();
  let elapsed = 0;
  // in batches, so reading the clock costs nothing next to the work
  let batch = 1;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) check(evaluateRule(rule, bindings, largest));
    count += batch;
    elapsed = performance.now() - started;
    if (elapsed < ms / 10) batch *= 2;
  }
  return (count / elapsed) * 1000;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A vulns predicate (in-toto/attestation, v0.1) with `n` findings, none critical. */
function vulnerabilities(n: number): unknown {
  const severities = ['LOW', 'MEDIUM', 'HIGH'];
  const result = Array.from({ length: n }, (_, i) => ({
    id: `CVE-2024-${String(i).padStart(5, '0')}`,
    severity: severities[i % 3],
    package: { name: `package-${i % 700}`, version: `1.${i % 40}.${i % 7}` },
    annotations: { fixedIn: `1.${(i % 40) + 1}.0` },
  }));
  return {
    scanner: {
      uri: 'pkg:github/aquasecurity/trivy@0.50.0',
      version: '0.50.0',
      db: { uri: 'pkg:github/aquasecurity/trivy-db', version: '2' },
      result,
    },
    metadata: { scanStartedOn: '2026-03-01T12:00:00Z', scanFinishedOn: '2026-03-01T12:00:05Z' },
  };
}

/** Median wall time of verify() over a one-step chain, without and with an expected predicate on the step. */
async function addedVerificationTime(n: number): Promise<{ without: number; with: number; runs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'evident-bench-policy-'));
  try {
    const owner = generatePrivateKey('ed25519');
    const builder = generatePrivateKey('ed25519');
    const scanner = generatePrivateKey('ed25519');
    const app = { sha256: sha256('app') };
    const link: Link = {
      _type: 'link',
      name: 'build',
      command: [],
      materials: {},
      products: { 'app.tar': app },
      byproducts: {},
      environment: {},
    };
    writeFileSync(join(dir, `build.${builder.keyid.slice(0, 8)}.link`), serializeMetablock(signMetablock(link, [builder])));
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'app.tar', digest: app }],
      predicateType: VULNS,
      predicate: vulnerabilities(n),
    };
    const envelope = signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [scanner]);
    writeFileSync(join(dir, 'app.vulns.json'), JSON.stringify(envelope));
    const expected: ExpectedPredicate = {
      predicate_type: VULNS,
      functionaries: [scanner.keyid],
      expected_attributes: [{ rule: EVERY_FINDING[0]! }, { rule: SIMPLE[1]! }],
    };
    const layoutOf = (predicates: boolean): Layout => ({
      _type: 'layout',
      expires: '2100-01-01T00:00:00Z',
      readme: '',
      keys: { [builder.keyid]: builder.publicKey.toDict(), [scanner.keyid]: scanner.publicKey.toDict() },
      steps: [
        {
          _type: 'step',
          name: 'build',
          threshold: 1,
          pubkeys: [builder.keyid],
          expected_command: [],
          expected_materials: [],
          expected_products: [
            ['CREATE', 'app.tar'],
            ['DISALLOW', '*'],
          ],
          ...(predicates ? { expected_predicates: [expected] } : {}),
        },
      ],
      inspect: [],
    });
    const plain = signMetablock(layoutOf(false), [owner]);
    const withRules = signMetablock(layoutOf(true), [owner]);
    const time = async (layout: unknown): Promise<number> => {
      const started = performance.now();
      const report = await verify({ layout, layoutKeys: [owner.publicKey], linkDir: dir, workDir: dir });
      if (!report.ok) throw new Error('bench: the chain did not verify');
      return performance.now() - started;
    };
    // the first of each loads and compiles what it needs (CEL, the rules): warm up both, then alternate
    await time(plain);
    await time(withRules);
    const runs = 7;
    const without: number[] = [];
    const withTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      without.push(await time(plain));
      withTimes.push(await time(withRules));
    }
    return { without: median(without), with: median(withTimes), runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The demo's chain (bench/_demo-chain.ts) verified by `evident verify` in a fresh process, as the deployer
 * runs it, with the demo's layout and the same layout without its rules, alternately: medians of each.
 */
async function demoChainAddedTime(): Promise<{ without: number; with: number; runs: number }> {
  const chain = await recordDemoChain();
  try {
    const { runEvident } = await import('../src/demo/evident-process.js');
    const time = async (layout: string): Promise<number> => {
      const started = performance.now();
      const r = await runEvident(chain.verifyArgs(layout), join(chain.dir, 'deliver'));
      if (r.code !== 0) throw new Error(`bench: the demo's chain did not verify with ${layout}: ${r.stdout}${r.stderr}`);
      return performance.now() - started;
    };
    await time(chain.withoutRules);
    await time(chain.withRules);
    const runs = 7;
    const without: number[] = [];
    const withTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      without.push(await time(chain.withoutRules));
      withTimes.push(await time(chain.withRules));
    }
    return { without: median(without), with: median(withTimes), runs };
  } finally {
    await chain.remove();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
