import { spawn } from '../../helpers/child-process.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../../helpers/evident-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'workload-child.ts');

export interface ChildResult {
  ids?: string[];
  expires?: string[];
  serials?: string[];
  token?: string;
  error?: { reason: string; grpcCode: number | null; message: string };
}

export interface WorkloadRun {
  /** Resolves with every JSON line once the child exits. */
  done: Promise<ChildResult[]>;
  /** Resolves with the n-th line (1-based) as soon as it is printed. */
  line(n: number): Promise<ChildResult>;
  kill(): void;
}

/**
 * How long a workload child may run: its calls have their own deadlines (30 s), but a watch waits for
 * rotations, and without this a rotation that never came would hold the test until the suite's timeout.
 */
const WORKLOAD_MS = 120_000;

/**
 * Runs workload-child.ts as a separate process (optionally another user, or another node executable). One
 * still running after `deadlineMs` is killed, and `done` and `line` fail with the lines and stderr it gave.
 */
export function runWorkload(args: string[], opts: { uid?: number; gid?: number; node?: string; deadlineMs?: number } = {}): WorkloadRun {
  const child = spawn(opts.node ?? process.execPath, ['--import', 'tsx', CHILD, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: '' },
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
  });
  const lines: ChildResult[] = [];
  const waiters: Array<{ n: number; resolve: (r: ChildResult) => void; reject: (e: Error) => void }> = [];
  let out = '';
  let err = '';
  const flush = (): void => {
    for (const w of [...waiters]) {
      const l = lines[w.n - 1];
      if (l) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      if (line.trim() !== '') lines.push(JSON.parse(line) as ChildResult);
    }
    flush();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const deadlineMs = opts.deadlineMs ?? WORKLOAD_MS;
  let overran = false;
  const timer = setTimeout(() => {
    overran = true;
    child.kill('SIGKILL');
  }, deadlineMs);
  const seen = (): string =>
    `${overran ? `still running after ${deadlineMs / 1000} s, killed; ` : ''}it printed ${JSON.stringify(lines)}; stderr: ${err}`;
  const done = new Promise<ChildResult[]>((resolve, reject) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w.reject(new Error(`workload ${args.join(' ')} exited (${code}) before line ${w.n}: ${seen()}`));
      if (code === 0) resolve(lines);
      else reject(new Error(`workload ${args.join(' ')} exited with ${code}: ${seen()}`));
    });
  });
  done.catch(() => undefined);
  return {
    done,
    line: (n) =>
      new Promise((resolve, reject) => {
        waiters.push({ n, resolve, reject });
        flush();
      }),
    kill: () => child.kill('SIGKILL'),
  };
}
