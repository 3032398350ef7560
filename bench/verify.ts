/**
 * `npm run bench -- verify [--small | --artifacts=N] [--min-ratio=X]`: final-product verification of a
 * two-step chain (code → build) over 100 000 artifacts per list (by default), timed side by side in one run (`--runs=N`, default 3, alternating; medians compared):
 *   - evident's verify(), in a child process (compiled, as shipped) so its peak RSS (VmHWM) is its own;
 *   - the reference: `/usr/bin/in-toto-verify` on the same layout, key and links.
 * The links are generated directly (digests of generated contents, no files hashed) and signed; the
 * rules use MATCH, CREATE and DISALLOW. Targets: evident ≥ 10 × faster, peak memory ≤ 1 GB.
 * `--min-ratio=X` makes a CPU-time ratio below X an error (exit 1): CI runs a smaller chain with a generous
 * X, so a change that loses the speed fails loudly. CPU time, because other work on a busy machine inflates
 * wall times but not the CPU either side spends.
 *
 * Compiled and run as `node verify.js --child DIR` this file is the child.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePrivateKey, loadPublicKey, securesystemslibKeyFiles } from '../src/crypto/key-files.js';
import type { PrivateKey } from '../src/crypto/keys.js';
import { serializeMetablock, signMetablock } from '../src/intoto/models/metablock.js';
import type { ArtifactDict, Layout, Link } from '../src/intoto/models/types.js';
import { verify } from '../src/intoto/verify/verify.js';
import { compileBenchChild } from './_compile-child.js';
import { numberFlag } from './_flags.js';

const SELF = fileURLToPath(import.meta.url);
const REFERENCE = '/usr/bin/in-toto-verify';
const BUILD = join(tmpdir(), 'evident-bench-verify-build');

interface ChildResult {
  ok: boolean;
  ms: number;
  peakKb: number;
  checks: number;
}

export default async function bench(flags: string[]): Promise<void> {
  const n = numberFlag(flags, '--artifacts', { whole: true }) ?? (flags.includes('--small') ? 2_000 : 100_000);
  // each side is run N times, alternating, and compared by its median
  const runs = numberFlag(flags, '--runs', { whole: true }) ?? 3;
  const minRatio = numberFlag(flags, '--min-ratio');
  const work = mkdtempSync(join(tmpdir(), 'evident-bench-verify-'));
  try {
    const started = Date.now();
    generate(work, n);
    // the links just written must not be flushed to disk while either side reads them
    spawnSync('sync');
    process.stdout.write(
      `chain: 2 steps, ${n} artifacts per list (${4 * n} recorded in all), generated in ${Date.now() - started} ms; ${runs} runs each, alternating\n`,
    );
    const childJs = compileBenchChild(SELF, BUILD);
    const hasReference = existsSync(REFERENCE);
    const ours: Measured[] = [];
    const theirs: Measured[] = [];
    const inside: number[] = [];
    for (let i = 0; i < runs; i++) {
      const evident = measure(process.execPath, [childJs, '--child', work], work);
      const result = JSON.parse(evident.stdout.trim().split('\n').pop()!) as ChildResult;
      if (!result.ok) throw new Error('bench: evident did not pass the honest chain');
      if (!Number.isFinite(evident.peakKb)) evident.peakKb = result.peakKb;
      ours.push(evident);
      inside.push(result.ms);
      if (hasReference) theirs.push(measure(REFERENCE, ['-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519', '--link-dir', '.'], work));
    }
    const evident = summarize(ours);
    process.stdout.write(`evident:        ${describe(evident)}; ${fmt(median(inside))} inside verify()${spread(ours)}\n`);
    if (!hasReference) {
      process.stdout.write(`reference:      SKIPPED, ${REFERENCE} is not installed (apt-get install in-toto); no ratio\n`);
      // a gate with nothing to measure against must not pass by default
      if (minRatio !== undefined) throw new Error(`--min-ratio needs the reference: ${REFERENCE} is not installed`);
      return;
    }
    const ref = summarize(theirs);
    process.stdout.write(`in-toto-verify: ${describe(ref)}${spread(theirs)}\n`);
    const ratio = ref.wallMs / evident.wallMs;
    const cpuRatio = ref.cpuMs / evident.cpuMs;
    process.stdout.write(
      `ratio:          evident is ${ratio.toFixed(1)}× faster in wall time (target ≥ 10×) ${ratio >= 10 ? 'OK' : 'MISSED'}, ${cpuRatio.toFixed(1)}× in CPU time (medians)\n`,
    );
    process.stdout.write(
      `peak memory:    ${(evident.peakKb / 1024).toFixed(0)} MB (target ≤ 1024 MB) ${evident.peakKb <= 1024 * 1024 ? 'OK' : 'MISSED'}\n`,
    );
    process.stdout.write(
      `load average:   ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${availableParallelism()} CPUs (other work on the machine inflates wall times)\n`,
    );
    if (minRatio !== undefined && cpuRatio < minRatio) {
      throw new Error(`evident spends only ${cpuRatio.toFixed(1)}× less CPU time than the reference; at least ${minRatio}× is required`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(BUILD, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median wall and CPU time; the highest peak memory. */
function summarize(runs: Measured[]): Measured {
  return {
    stdout: '',
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    peakKb: Math.max(...runs.map((r) => r.peakKb)),
  };
}

function spread(runs: Measured[]): string {
  if (runs.length < 2) return '';
  const walls = runs.map((r) => r.wallMs);
  return ` (median of ${runs.length}; wall ${fmt(Math.min(...walls))}–${fmt(Math.max(...walls))})`;
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

function digest(text: string): { sha256: string } {
  return { sha256: createHash('sha256').update(text).digest('hex') };
}

/** code creates n sources; build matches them all and creates n objects. Written as the reference would read them. */
export function generate(dir: string, n: number): void {
  const owner = generatePrivateKey('ed25519');
  const alice = generatePrivateKey('ed25519');
  const bob = generatePrivateKey('ed25519');
  const sources: ArtifactDict = {};
  const objects: ArtifactDict = {};
  for (let i = 0; i < n; i++) {
    const d = `d${String(i % 500).padStart(3, '0')}`;
    sources[`src/${d}/file${i}.c`] = digest(`source ${i}`);
    objects[`out/${d}/file${i}.o`] = digest(`object ${i}`);
  }
  const rule = (s: string) => s.split(' ');
  const layout: Layout = {
    _type: 'layout',
    expires: '2100-01-01T00:00:00Z',
    readme: 'bench',
    keys: { [alice.keyid]: alice.publicKey.toDict(), [bob.keyid]: bob.publicKey.toDict() },
    steps: [
      {
        _type: 'step',
        name: 'code',
        threshold: 1,
        pubkeys: [alice.keyid],
        expected_command: [],
        expected_materials: [],
        expected_products: [rule('CREATE src/*'), rule('DISALLOW *')],
      },
      {
        _type: 'step',
        name: 'build',
        threshold: 1,
        pubkeys: [bob.keyid],
        expected_command: ['make'],
        expected_materials: [rule('MATCH src/* WITH PRODUCTS FROM code'), rule('DISALLOW *')],
        expected_products: [rule('MATCH * IN src WITH PRODUCTS IN src FROM code'), rule('CREATE out/*'), rule('DISALLOW *')],
      },
    ],
    inspect: [],
  };
  const link = (name: string, materials: ArtifactDict, products: ArtifactDict): Link => ({
    _type: 'link',
    name,
    command: name === 'build' ? ['make'] : [],
    materials,
    products,
    byproducts: { 'return-value': 0, stderr: '', stdout: '' },
    environment: {},
  });
  write(dir, 'root.layout', layout, owner);
  write(dir, `code.${alice.keyid.slice(0, 8)}.link`, link('code', {}, sources), alice);
  write(dir, `build.${bob.keyid.slice(0, 8)}.link`, link('build', sources, { ...sources, ...objects }), bob);
  writeFileSync(join(dir, 'owner.pub'), securesystemslibKeyFiles(owner).publicJson);
}

/** Signed and written byte for byte as the reference's Metablock.dump writes (sorted keys, indent 1). */
function write(dir: string, name: string, signed: Link | Layout, key: PrivateKey): void {
  writeFileSync(join(dir, name), serializeMetablock(signMetablock(signed, [key])));
}

interface Measured {
  stdout: string;
  wallMs: number;
  cpuMs: number;
  peakKb: number;
}

/** Runs a process under GNU time (when present) for its wall time, user+system CPU and peak RSS. */
function measure(command: string, args: string[], cwd: string): Measured {
  const gnuTime = existsSync('/usr/bin/time');
  const marker = join(cwd, '.bench-time');
  const argv = gnuTime ? ['/usr/bin/time', '-o', marker, '-f', '%e %U %S %M', command, ...args] : [command, ...args];
  const started = performance.now();
  const run = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = performance.now() - started;
  if (run.status !== 0) throw new Error(`bench: ${command} exited ${run.status}: ${run.stderr}`);
  if (!gnuTime) return { stdout: run.stdout, wallMs, cpuMs: Number.NaN, peakKb: Number.NaN };
  const [, user, sys, rss] = readFileSync(marker, 'utf8').trim().split(/\s+/).map(Number) as [number, number, number, number];
  rmSync(marker);
  return { stdout: run.stdout, wallMs, cpuMs: (user + sys) * 1000, peakKb: rss };
}

function describe(m: Measured): string {
  return `${fmt(m.wallMs)} wall, ${fmt(m.cpuMs)} CPU, peak RSS ${(m.peakKb / 1024).toFixed(0)} MB`;
}

async function child(argv: string[]): Promise<void> {
  const dir = argv[argv.indexOf('--child') + 1]!;
  const started = performance.now();
  const report = await verify({
    layout: JSON.parse(readFileSync(join(dir, 'root.layout'), 'utf8')) as unknown,
    layoutKeys: [await loadPublicKey(join(dir, 'owner.pub'))],
    linkDir: dir,
    workDir: dir,
  });
  const ms = performance.now() - started;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  const result: ChildResult = { ok: report.ok, ms, peakKb: Number(hwm?.[1] ?? 0), checks: report.checks.length };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv.includes('--child') && process.argv[1] === SELF) {
  await child(process.argv);
}
