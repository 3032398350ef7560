/**
 * `npm run test:under-load [-- FILE…]`: runs test files while test/load/cpu-hog.ts keeps every core busy,
 * the way a loaded CI machine runs them (issue 20: the suite must not hang or flake under load). Without
 * files it runs the tests most exposed to timing: the agent's Workload API (streams, rotation pushes) and the
 * rotation end-to-end tests with real server and agent processes; CI runs that set once (.ci/run). The hog
 * is started before the tests and stopped after them, whatever their outcome (and leaves with this process
 * if it is killed: it is tied to it by an IPC channel). Exits with the test run's code.
 */
import { spawn, type ChildProcess } from '../helpers/child-process.js';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../helpers/evident-process.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOG = join(ROOT, 'test', 'load', 'cpu-hog.ts');

/** What CI runs under the hog: a few minutes on 2 cores, every file here starts real processes or streams. */
const UNDER_LOAD_FILES = [
  'test/identity/agent/workloadapi-server.test.ts',
  'test/identity/agent/e2e.test.ts',
  'test/identity/server/rotation-server.test.ts',
  'test/e2e/identity-rotation.test.ts',
];

/** How long the hog may take to report that its loops spin before the run gives up. */
const HOG_START_MS = 30_000;

function startHog(cores: number): Promise<ChildProcess> {
  const hog = spawn(process.execPath, ['--import', 'tsx', HOG, String(cores)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      hog.kill('SIGKILL');
      reject(new Error(`the CPU hog did not start within ${HOG_START_MS / 1000} s`));
    }, HOG_START_MS);
    createInterface({ input: hog.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      process.stdout.write(`${line}\n`);
      resolve(hog);
    });
    hog.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the CPU hog exited (${code}) before it started`));
    });
  });
}

function stopHog(hog: ChildProcess): Promise<void> {
  if (hog.exitCode !== null || hog.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    hog.once('exit', () => resolve());
    hog.kill('SIGKILL');
  });
}

/** The node:test run of `files` with the suite's own settings (package.json's test script); its exit code. */
function runTests(files: string[]): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal !== null ? 1 : 0))));
}

const files = process.argv.slice(2).map((f) => resolve(f));
const chosen = files.length > 0 ? files : UNDER_LOAD_FILES;
const cores = availableParallelism();
const started = performance.now();
// dist/ as src/ is, before the hog: the end-to-end files would each build it under load (npm test does it first too)
ensureBuilt();
const hog = await startHog(cores);
let code = 1;
try {
  code = await runTests(chosen);
} finally {
  await stopHog(hog);
}
process.stdout.write(
  `under load: ${chosen.length} test file${chosen.length === 1 ? '' : 's'} with ${cores} core${cores === 1 ? '' : 's'} kept busy, ${((performance.now() - started) / 1000).toFixed(0)} s, ${code === 0 ? 'passed' : `FAILED (exit ${code})`}\n`,
);
process.exitCode = code;
