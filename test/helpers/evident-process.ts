// Real `evident` processes (the compiled bin/evident) for the end-to-end tests: build once, spawn, wait for
// log lines, stop. In-process CLI tests use runCli (./cli.ts); test/cli/cli-runner.ts runs the CLI from source.
import { spawn, spawnSync, type ChildProcess } from './child-process.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const BIN = join(REPO_ROOT, 'bin', 'evident');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    newest = Math.max(newest, name.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Compiles src/ to dist/ (`npx tsc -p tsconfig.build.json`) unless dist/ is newer than every source
 * file. Other areas' type errors do not stop tsc from emitting, so success is judged by the files.
 */
export function ensureBuilt(): void {
  const marker = join(REPO_ROOT, 'dist', 'cli', 'agent.js');
  if (existsSync(marker) && statSync(marker).mtimeMs >= newestMtime(join(REPO_ROOT, 'src'))) return;
  // minutes on a loaded machine (npm test builds first, so the suite rarely gets here)
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'ignore', timeout: 600_000 });
  for (const f of ['cli/agent.js', 'cli/server.js', 'identity/agent/index.js']) {
    if (!existsSync(join(REPO_ROOT, 'dist', f))) throw new Error(`build did not produce dist/${f}`);
  }
}

/** `node bin/evident`, checked to know the agent and server commands. */
export function evidentCommand(): string[] {
  const help = spawnSync(process.execPath, [BIN, '--help'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout ?? '';
  for (const name of ['agent', 'server']) {
    if (!new RegExp(`^\\s+${name}\\b`, 'm').test(help))
      throw new Error(`bin/evident has no '${name}' command (is it registered in src/cli/commands.ts?)`);
  }
  return [BIN];
}

export interface EvidentProcess {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Until a line of stderr matches; rejects with the stderr seen when the process exits first or after `timeoutMs` (default WAIT_MS). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exit: Promise<number | null>;
  /**
   * Sends `signal` (SIGTERM by default) and waits for the exit code; a process still there STOP_MS later is
   * killed (exit code null), and its stderr says so, for the assertion that fails on it.
   */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * How long `waitFor` waits for a line by default. A start-up that takes 1–2 s on an idle machine takes 10–20 s
 * with every core busy (test/load/cpu-hog.ts), so a deadline is for a process that is stuck, not slow.
 */
export const WAIT_MS = 60_000;
/** How long a stopped process may take to go before it is killed. */
const STOP_MS = 30_000;
/** How long a short command (runEvident) may run before it is killed and the call fails with its output. */
export const RUN_MS = 120_000;

export function startEvident(cmd: string[], args: string[], cwd: string): EvidentProcess {
  const child = spawn(process.execPath, [...cmd, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  const watchers: Array<() => void> = [];
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...watchers]) w();
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      for (const w of [...watchers]) w();
      resolve(code);
    }),
  );
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exit,
    waitFor: (pattern, timeoutMs = WAIT_MS) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${pattern} in: ${err}`)),
          timeoutMs,
        );
        const check = (): void => {
          if (pattern.test(err)) {
            clearTimeout(timer);
            watchers.splice(watchers.indexOf(check), 1);
            resolve();
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            watchers.splice(watchers.indexOf(check), 1);
            reject(new Error(`process exited (${child.exitCode}) before ${pattern}: ${err}`));
          }
        };
        watchers.push(check);
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return exit;
      child.kill(signal);
      if (signal === 'SIGKILL') return exit;
      const timer = setTimeout(() => {
        err += `\n[test: still running ${STOP_MS / 1000} s after ${signal}; killed with SIGKILL]\n`;
        child.kill('SIGKILL');
      }, STOP_MS);
      return exit.finally(() => clearTimeout(timer));
    },
  };
}

/**
 * Runs a short evident command to completion. One still running after `timeoutMs` (default RUN_MS) is killed,
 * and the call fails with what it printed.
 */
export async function runEvident(
  cmd: string[],
  args: string[],
  cwd: string,
  timeoutMs = RUN_MS,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startEvident(cmd, args, cwd);
  let timer: NodeJS.Timeout | undefined;
  const overran = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      p.child.kill('SIGKILL');
      reject(
        new Error(
          `evident ${args.join(' ')}: still running after ${timeoutMs / 1000} s, killed\n--- stdout:\n${p.stdout()}\n--- stderr:\n${p.stderr()}`,
        ),
      );
    }, timeoutMs);
  });
  try {
    const code = await Promise.race([p.exit, overran]);
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a short evident command that must succeed; its stdout. */
export async function mustRunEvident(cmd: string[], args: string[], cwd: string): Promise<string> {
  const r = await runEvident(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`evident ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export interface JoinedAgentOptions {
  /** The server's agent API port on 127.0.0.1. */
  port: number;
  token: string;
  /** The Workload API socket the agent serves. */
  socket: string;
  dataDir: string;
  /** The trust bundle file (relative to `cwd`) the agent trusts the server with. */
  bundle?: string;
  /** For a server under an upstream CA, whose root names no trust domain. */
  trustDomain?: string;
}

/** `evident agent run`, attested with a join token; resolves once it says it is ready. */
export async function startJoinedAgent(cmd: string[], o: JoinedAgentOptions, cwd: string): Promise<EvidentProcess> {
  const agent = startEvident(
    cmd,
    [
      'agent',
      'run',
      '--server',
      `127.0.0.1:${o.port}`,
      ...(o.trustDomain !== undefined ? ['--trust-domain', o.trustDomain] : []),
      '--trust-bundle',
      o.bundle ?? 'bundle.pem',
      '--join-token',
      o.token,
      '--socket',
      o.socket,
      '--data-dir',
      o.dataDir,
    ],
    cwd,
  );
  try {
    await agent.waitFor(/agent ready/);
  } catch (e) {
    await agent.stop('SIGKILL');
    throw e;
  }
  return agent;
}

/** An end-to-end test file's evident: the command, a scratch folder, and the processes it starts there. */
export interface EndToEnd {
  /** `node bin/evident` (after the build): valid from the file's `before` on. */
  readonly cmd: string[];
  readonly work: string;
  /** `evident ARGS` as a long-running process, killed after the file's tests. */
  start(args: string[], cwd: string): EvidentProcess;
  /** A process started otherwise (startJoinedAgent), killed after the file's tests. */
  track(process: EvidentProcess): EvidentProcess;
  /** A short evident command that must succeed; its stdout. */
  must(args: string[], cwd: string): Promise<string>;
}

/**
 * Registers the file's `before` (build, a scratch folder named `prefix…`) and `after` (every process it
 * started killed, the folder removed) with node:test, and returns what the tests use.
 */
export function endToEnd(prefix: string): EndToEnd {
  let cmd: string[] = [];
  let work = '';
  const processes: EvidentProcess[] = [];
  before(async () => {
    ensureBuilt();
    cmd = evidentCommand();
    work = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    if (work !== '') await rm(work, { recursive: true, force: true });
  });
  const track = (p: EvidentProcess): EvidentProcess => {
    processes.push(p);
    return p;
  };
  return {
    get cmd() {
      return cmd;
    },
    get work() {
      return work;
    },
    start: (args, cwd) => track(startEvident(cmd, args, cwd)),
    track,
    must: (args, cwd) => mustRunEvident(cmd, args, cwd),
  };
}
