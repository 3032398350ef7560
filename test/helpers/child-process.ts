/**
 * node:child_process for the tests, with what keeps the suite from hanging (issue 20). Import these instead
 * of node:child_process's own; they take the same arguments.
 *
 * - Every child started here (spawn, fork, execFile) is killed when this test process ends or is told to
 *   stop: `node --test` sends SIGTERM to a file that overran --test-timeout, and before this its servers and
 *   agents ran on, orphaned, holding ports and CPU for the files after it.
 * - The synchronous calls (execFileSync, spawnSync) and execFile get a deadline, CHILD_DEADLINE_MS unless the
 *   call gives its own `timeout`: a synchronous call blocks the event loop, so nothing else (not even
 *   --test-timeout) could end a hung one. Past the deadline the child is killed with SIGKILL and the call
 *   fails with an error naming the command and what it had printed.
 *
 * Long-running children (servers, agents) have no deadline of their own: they live as long as the tests
 * that use them, and each wait on them has its deadline (test/helpers/evident-process.ts `waitFor`).
 */
import * as cp from 'node:child_process';
import { promisify } from 'node:util';

export type { ChildProcess } from 'node:child_process';

/** How long a child started by a test may run when the call gives no deadline: far beyond any healthy run, even on a loaded machine. */
export const CHILD_DEADLINE_MS = 180_000;

const live = new Set<cp.ChildProcess>();
let installed = false;

function killAll(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Once per process: the children go when it exits, or when a signal ends it (which then ends it as it would have). */
function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Kills `child` with this test process (see above); returns it. For children started by other means. */
export function track<C extends cp.ChildProcess>(child: C): C {
  install();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export const spawn = ((...args: unknown[]) => track((cp.spawn as (...a: unknown[]) => cp.ChildProcess)(...args))) as typeof cp.spawn;

export const fork = ((...args: unknown[]) => track((cp.fork as (...a: unknown[]) => cp.ChildProcess)(...args))) as typeof cp.fork;

type SyncOptions = { timeout?: number; killSignal?: NodeJS.Signals | number };

function withDeadline<O extends SyncOptions>(options: O | undefined): O {
  return { ...options, timeout: options?.timeout ?? CHILD_DEADLINE_MS, killSignal: options?.killSignal ?? 'SIGKILL' } as O;
}

function text(output: unknown): string {
  const s = output === null || output === undefined ? '' : String(output);
  return s.length > 4000 ? `…${s.slice(-4000)}` : s;
}

/** The error for a child killed at its deadline: the command, the deadline, and its output so far. */
function overran(file: string, args: readonly string[] | undefined, timeout: number, stdout: unknown, stderr: unknown): Error {
  return new Error(
    `${[file, ...(args ?? [])].join(' ')}: still running after ${timeout / 1000} s, killed\n--- stdout:\n${text(stdout)}\n--- stderr:\n${text(stderr)}`,
  );
}

function splitArgs(rest: unknown[]): { args: readonly string[] | undefined; options: SyncOptions | undefined } {
  return Array.isArray(rest[0])
    ? { args: rest[0] as string[], options: rest[1] as SyncOptions | undefined }
    : { args: undefined, options: rest[0] as SyncOptions | undefined };
}

export const execFileSync = ((file: string, ...rest: unknown[]) => {
  const { args, options } = splitArgs(rest);
  const o = withDeadline(options);
  try {
    return cp.execFileSync(file, args ?? [], o as cp.ExecFileSyncOptions);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: unknown; stderr?: unknown };
    if (err.code === 'ETIMEDOUT') throw overran(file, args, o.timeout!, err.stdout, err.stderr);
    throw e;
  }
}) as typeof cp.execFileSync;

export const spawnSync = ((file: string, ...rest: unknown[]) => {
  const { args, options } = splitArgs(rest);
  const o = withDeadline(options);
  const r = cp.spawnSync(file, args ?? [], o as cp.SpawnSyncOptions);
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') throw overran(file, args, o.timeout!, r.stdout, r.stderr);
  return r;
}) as typeof cp.spawnSync;

/**
 * execFile with a deadline (the callback's error then has `killed`, and the message node gives it ends
 * with the child's stderr), tracked like spawn. `promisify(execFile)` works as with node's own.
 */
export const execFile = ((file: string, ...rest: unknown[]) => {
  const callback = typeof rest[rest.length - 1] === 'function' ? rest.pop() : undefined;
  const { args, options } = splitArgs(rest);
  return track(cp.execFile(file, args ?? [], withDeadline(options as cp.ExecFileOptions), callback as never));
}) as typeof cp.execFile;

Object.defineProperty(execFile, promisify.custom, {
  value: (file: string, ...rest: unknown[]) => {
    const { args, options } = splitArgs(rest);
    const p = promisify(cp.execFile)(file, args ?? [], withDeadline(options as cp.ExecFileOptions));
    track((p as unknown as { child: cp.ChildProcess }).child);
    return p;
  },
});
