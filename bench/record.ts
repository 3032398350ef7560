/**
 * `npm run bench -- record [--small] [--clean]`: artifact recording on a generated tree of ≥ 100 000 files
 * and ≥ 2 GB (cached under os.tmpdir()/evident-bench-record), warm cache, timed side by side in one run:
 *   - evident's collectArtifacts, in a child process so its peak RSS (VmHWM) is its own;
 *   - the same with hashing on the main thread (reads on the libuv pool), the alternative we measured;
 *   - single-process sha256sum over every file (xargs runs it one process at a time; see the note printed);
 *   - the reference: `in-toto-run -n bench -m TREE -x --key K --key-type ed25519` (materials only).
 * Targets (2 cores, warm cache): evident ≤ 0.6 × sha256sum, ≤ 0.5 × in-toto-run, peak ≤ 300 MB.
 *
 * Compiled and run as `node record.js --child TREE [--hash-in main]` this file is the child.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBenchChild } from './_compile-child.js';

interface TreeSpec {
  name: string;
  topDirs: number;
  subDirs: number;
  filesPerDir: number;
  maxSmallBytes: number;
  minTotalBytes: number;
  bigFileBytes: number;
}

const FULL: TreeSpec = {
  name: 'evident-bench-record',
  topDirs: 40,
  subDirs: 25,
  filesPerDir: 101, // 40 × 25 × 101 = 101 000 small files
  maxSmallBytes: 16 * 1024,
  minTotalBytes: 2.1e9,
  bigFileBytes: 96 * 1024 * 1024,
};

const SMALL: TreeSpec = {
  name: 'evident-bench-record-small',
  topDirs: 4,
  subDirs: 5,
  filesPerDir: 50,
  maxSmallBytes: 16 * 1024,
  minTotalBytes: 40e6,
  bigFileBytes: 8 * 1024 * 1024,
};

const SPEC_VERSION = 1;
const SELF = fileURLToPath(import.meta.url);
const REPO = join(SELF, '..', '..');
const BUILD_DIR = join(tmpdir(), 'evident-bench-record-build');

interface ChildResult {
  files: number;
  ms: number;
  /** user + system CPU of the whole process (all threads), during collectArtifacts. */
  cpuMs: number;
  peakKb: number;
  digest: string;
}

export default async function bench(flags: string[]): Promise<void> {
  const spec = flags.includes('--small') ? SMALL : FULL;
  const tree = join(tmpdir(), spec.name);
  const t0 = Date.now();
  const { files, bytes } = ensureTree(tree, spec);
  log(`tree ${tree}: ${files} files, ${(bytes / 1e9).toFixed(2)} GB (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  log('warming the page cache …');
  sh(`find ${q(tree)} -type f -print0 | xargs -0 cat > /dev/null`);

  const childJs = compileBenchChild(SELF, BUILD_DIR, [join(REPO, 'src', 'intoto', 'record', 'hash-worker.ts')]);
  const evident = runChild(childJs, tree, 'workers');
  const mainThread = runChild(childJs, tree, 'main');
  rmSync(BUILD_DIR, { recursive: true, force: true });
  log(
    `evident (worker threads):   ${sec(evident.ms)} wall ${sec(evident.cpuMs)} cpu  ${evident.files} files, peak RSS ${mb(evident.peakKb)}`,
  );
  log(`evident (main-thread hash): ${sec(mainThread.ms)} wall ${sec(mainThread.cpuMs)} cpu  peak RSS ${mb(mainThread.peakKb)}`);
  if (mainThread.digest !== evident.digest) throw new Error('bench: the two evident modes recorded different maps');

  const sha = timed(`find ${q(tree)} -type f -print0 | xargs -0 sha256sum > /dev/null`);
  const invocations = Number(sh(`find ${q(tree)} -type f -print0 | xargs -0 sh -c 'echo x' sh | wc -l`).trim());
  log(
    `sha256sum:                  ${sec(sha.ms)} wall ${sec(sha.cpuMs)} cpu  (${invocations} sha256sum processes run one after another: xargs splits at ARG_MAX; cpu includes find)`,
  );
  const shaMs = sha.ms;

  const ref = runReference(tree);
  if (ref === undefined) log('in-toto-run: not installed (apt-get install in-toto), skipped');
  else log(`in-toto-run -x:             ${sec(ref.ms)} wall ${sec(ref.cpuMs)} cpu  ${ref.files} materials`);

  log('');
  const okSha = evident.ms <= 0.6 * shaMs;
  log(`evident / sha256sum   = ${(evident.ms / shaMs).toFixed(3)}  (target ≤ 0.6) ${okSha ? 'OK' : 'MISSED'}`);
  if (ref !== undefined) {
    const okRef = evident.ms <= 0.5 * ref.ms;
    log(`evident / in-toto-run = ${(evident.ms / ref.ms).toFixed(3)}  (target ≤ 0.5) ${okRef ? 'OK' : 'MISSED'}`);
    if (ref.files !== evident.files) log(`WARNING: in-toto-run recorded ${ref.files} files, evident ${evident.files}`);
    if (ref.digest !== evident.digest) log('WARNING: in-toto-run and evident recorded different artifact maps');
    else log('in-toto-run and evident recorded identical artifact maps');
  }
  log(`evident peak RSS      = ${mb(evident.peakKb)}  (target ≤ 300 MB) ${evident.peakKb <= 300 * 1024 ? 'OK' : 'MISSED'}`);
  log(`main-thread / worker-thread hashing = ${(mainThread.ms / evident.ms).toFixed(3)} (wall)`);
  const cpuNote = ref === undefined ? '' : `, evident / in-toto-run = ${(evident.cpuMs / ref.cpuMs).toFixed(3)}`;
  log(`cpu-time ratios (for a loaded machine): evident / sha256sum = ${(evident.cpuMs / sha.cpuMs).toFixed(3)}${cpuNote}`);
  log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

  if (flags.includes('--clean')) {
    rmSync(tree, { recursive: true, force: true });
    log(`removed ${tree}`);
  }
}

/** Builds the tree once; a marker file with the spec makes later runs reuse it. */
function ensureTree(tree: string, spec: TreeSpec): { files: number; bytes: number } {
  const marker = join(tree, '.complete');
  const want = JSON.stringify({ SPEC_VERSION, spec });
  if (existsSync(marker)) {
    const got = JSON.parse(readFileSync(marker, 'utf8')) as { key: string; files: number; bytes: number };
    if (got.key === want) return got;
  }
  rmSync(tree, { recursive: true, force: true });
  log(`generating ${tree} …`);
  const pool = Buffer.allocUnsafe(4 * 1024 * 1024);
  randomFillSync(pool);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let files = 0;
  let bytes = 0;
  for (let t = 0; t < spec.topDirs; t++) {
    for (let s = 0; s < spec.subDirs; s++) {
      const dir = join(tree, 'src', `pkg${t}`, `mod${s}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < spec.filesPerDir; f++) {
        const size = rand(spec.maxSmallBytes);
        const off = rand(pool.length - size);
        writeFileSync(join(dir, `file${f}.dat`), pool.subarray(off, off + size));
        files++;
        bytes += size;
      }
    }
  }
  mkdirSync(join(tree, 'large'), { recursive: true });
  for (let i = 0; bytes < spec.minTotalBytes; i++) {
    const chunks: Buffer[] = [];
    for (let done = 0; done < spec.bigFileBytes; done += pool.length) {
      const c = Buffer.from(pool.subarray(0, Math.min(pool.length, spec.bigFileBytes - done)));
      c.writeUInt32LE(i, 0);
      c.writeUInt32LE(done / pool.length, 4);
      chunks.push(c);
    }
    writeFileSync(join(tree, 'large', `blob${i}.bin`), Buffer.concat(chunks));
    files++;
    bytes += spec.bigFileBytes;
  }
  writeFileSync(marker, JSON.stringify({ key: want, files, bytes }));
  return { files, bytes };
}

function runChild(childJs: string, tree: string, hashIn: 'workers' | 'main'): ChildResult {
  const out = execFileSync(process.execPath, [childJs, '--child', tree, '--hash-in', hashIn], {
    cwd: REPO,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.toString()) as ChildResult;
}

/** The reference on the same tree, materials only; its link's materials are compared with evident's. */
function runReference(tree: string): { ms: number; cpuMs: number; files: number; digest: string } | undefined {
  if (!existsSync('/usr/bin/in-toto-run')) return undefined;
  const work = mkdtempSync(join(tmpdir(), 'evident-bench-ref-'));
  try {
    execFileSync('/usr/bin/in-toto-keygen', ['-t', 'ed25519', join(work, 'key')], { stdio: 'ignore' });
    const { ms, cpuMs } = timed(
      `cd ${q(tree)} && /usr/bin/in-toto-run -n bench -m . -x --key ${q(join(work, 'key'))} --key-type ed25519 -d ${q(work)}`,
    );
    const linkFile = execFileSync('sh', ['-c', `ls ${q(work)}/bench.*.link`])
      .toString()
      .trim();
    const link = JSON.parse(readFileSync(linkFile, 'utf8')) as { signed: { materials: Record<string, unknown> } };
    const materials = link.signed.materials;
    return { ms, cpuMs, files: Object.keys(materials).length, digest: digestMap(materials) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function digestMap(map: Record<string, unknown>): string {
  const keys = Object.keys(map).sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, map[k]])))
    .digest('hex');
}

async function child(argv: string[]): Promise<void> {
  const { collectArtifacts } = await import('../src/intoto/record/index.js');
  const tree = argv[argv.indexOf('--child') + 1]!;
  const hashIn = argv.includes('--hash-in') ? (argv[argv.indexOf('--hash-in') + 1] as 'workers' | 'main') : 'workers';
  // Run where in-toto-run runs, so both record the same names ('src/…', 'large/…').
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const map = await collectArtifacts(['.'], { basePath: tree, hashIn });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  const result: ChildResult = {
    files: Object.keys(map).length,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakKb: hwm ? Number(hwm[1]) : -1,
    digest: digestMap(map),
  };
  process.stdout.write(JSON.stringify(result));
}

/** Wall time, and the CPU time of the command's processes (from the shell's `times`). */
function timed(command: string): { ms: number; cpuMs: number } {
  const start = process.hrtime.bigint();
  const out = sh(`${command}\ntimes`);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  // `times` prints the shell's user/sys on one line, its children's on the next: "0m8.296s 0m2.416s".
  const children = out.trim().split('\n').pop() ?? '';
  let cpuMs = 0;
  for (const m of children.matchAll(/(\d+)m([\d.]+)s/g)) cpuMs += (Number(m[1]) * 60 + Number(m[2])) * 1000;
  return { ms, cpuMs };
}

function sh(command: string): string {
  return execFileSync('sh', ['-c', command], { maxBuffer: 64 * 1024 * 1024 }).toString();
}

function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2).padStart(7)} s`;
}

function mb(kb: number): string {
  return `${(kb / 1024).toFixed(0)} MB`;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

if (process.argv.includes('--child') && process.argv[1] === SELF) {
  await child(process.argv);
}
