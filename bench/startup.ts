/**
 * How long the CLI takes to start: wall-clock time of `evident --version`, of `--help` at the top level
 * and of a few commands, and of admin commands against a running server (spawned here, `evident server
 * run`), each a fresh `node bin/evident` process as a user runs it. The peer measured in the same run is
 * `node -e 0`, Node's own start-up, which no change to evident can beat; the ratios say what evident
 * adds on top. Commands are run in interleaved rounds so a burst of other work on the machine falls on
 * all of them alike; the median of each is reported.
 *
 * Targets on the 2-core machine: version and help ≤ 150 ms, admin commands ≤ 300 ms. Flags: --runs=N
 * (default 15), --max-ms=N (fail when a version/help median is above N ms), --max-admin-ms=N (the same
 * for the admin commands). Measures the compiled CLI (dist/), which is rebuilt first when older than src/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberFlag } from './_flags.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'evident');

interface Case {
  label: string;
  args: string[];
  kind: 'peer' | 'help' | 'admin';
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** dist/ as src/ is now: a stale build would measure old code. */
function ensureBuilt(): void {
  const marker = join(ROOT, 'dist', 'cli', 'main.js');
  let built = 0;
  try {
    built = statSync(marker).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newestMtime(join(ROOT, 'src'))) return;
  process.stdout.write('building dist/ (older than src/) ...\n');
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
}

/** `evident server run` in `dir`, once it says it is ready; its admin socket. */
async function startServer(dir: string): Promise<{ socket: string; exited: () => string | undefined; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'server',
      'run',
      '--trust-domain',
      'bench.example',
      '--data-dir',
      dir,
      '--bind',
      '127.0.0.1:0',
      '--admin-socket',
      join(dir, 'admin.sock'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('server ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the bench server exited (${code}): ${err.trim()}`)));
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => ((exitCode = code), resolve())));
  return {
    socket: join(dir, 'admin.sock'),
    // why an admin command failed: the server is gone
    exited: () => (exitCode === undefined ? undefined : `the bench server exited (${exitCode}): ${err.trim().split('\n').pop()}`),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function wallMs(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(args[0]!, args.slice(1), { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.slice(1).join(' ')} exited ${r.status}: ${r.stderr.toString().trim()}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export default async function startupBench(flags: string[]): Promise<void> {
  const runs = numberFlag(flags, '--runs', { whole: true }) ?? 15;
  const maxMs = numberFlag(flags, '--max-ms');
  const maxAdminMs = numberFlag(flags, '--max-admin-ms');
  ensureBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'evident-bench-startup-'));
  const server = await startServer(join(dir, 'server'));
  try {
    const node = process.execPath;
    const evident = (...args: string[]): string[] => [node, BIN, ...args];
    const admin = ['--admin-socket', server.socket];
    // one entry, so `entry list` prints one rather than "No entries"
    wallMs(
      evident(
        'server',
        'entry',
        'create',
        ...admin,
        '--spiffe-id',
        'spiffe://bench.example/w',
        '--parent-id',
        'spiffe://bench.example/a',
        '--selector',
        'unix:uid:1000',
      ),
    );
    const cases: Case[] = [
      { label: 'node -e 0', args: [node, '-e', '0'], kind: 'peer' },
      { label: 'evident --version', args: evident('--version'), kind: 'help' },
      { label: 'evident --help', args: evident('--help'), kind: 'help' },
      { label: 'evident server --help', args: evident('server', '--help'), kind: 'help' },
      { label: 'evident server entry create --help', args: evident('server', 'entry', 'create', '--help'), kind: 'help' },
      { label: 'evident verify --help', args: evident('verify', '--help'), kind: 'help' },
      { label: 'evident run --help', args: evident('run', '--help'), kind: 'help' },
      { label: 'evident server entry list', args: evident('server', 'entry', 'list', ...admin), kind: 'admin' },
      { label: 'evident server bundle show', args: evident('server', 'bundle', 'show', ...admin), kind: 'admin' },
    ];
    const times = cases.map(() => [] as number[]);
    for (const c of cases) wallMs(c.args); // warm the file cache: the first run of each reads from disk
    try {
      for (let round = 0; round < runs; round++) cases.forEach((c, i) => times[i]!.push(wallMs(c.args)));
    } catch (e) {
      throw new Error(`${(e as Error).message}${server.exited() ? `; ${server.exited()}` : ''}`);
    }

    const medians = times.map(median);
    const peer = medians[0]!;
    const width = Math.max(...cases.map((c) => c.label.length));
    process.stdout.write(`wall-clock median of ${runs} runs each, interleaved; ratio to node -e 0 in the same run\n`);
    cases.forEach((c, i) => {
      const ms = medians[i]!;
      process.stdout.write(`  ${c.label.padEnd(width)}  ${ms.toFixed(0).padStart(5)} ms  ${(ms / peer).toFixed(2).padStart(5)}×\n`);
    });

    const over: string[] = [];
    cases.forEach((c, i) => {
      const limit = c.kind === 'help' ? maxMs : c.kind === 'admin' ? maxAdminMs : undefined;
      if (limit !== undefined && medians[i]! > limit) over.push(`${c.label}: ${medians[i]!.toFixed(0)} ms > ${limit} ms`);
    });
    if (over.length > 0) throw new Error(`start-up over its limit: ${over.join('; ')}`);
    if (maxMs !== undefined || maxAdminMs !== undefined) process.stdout.write('  within the limits given\n');
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
