/**
 * `node --import tsx test/load/cpu-hog.ts [N]`: keeps N cores (default: every core this process may use)
 * busy with busy loops until it is stopped, so tests and benchmarks can be run on a machine with no CPU to
 * spare (issue 20: a test that passes only on an idle machine is a flake waiting for CI). Each loop is a
 * worker thread, scheduled by the kernel like any other thread; the main thread only waits for the end:
 * SIGTERM or SIGINT, or, when it was started with an IPC channel (test/load/under-load.ts), the parent going
 * away, so a runner killed with -9 leaves no hog behind. It prints one line once every loop is spinning.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const arg = process.argv[2];
const count = arg === undefined ? availableParallelism() : Number(arg);
if (!Number.isSafeInteger(count) || count < 1) {
  process.stderr.write(`cpu-hog: the number of cores to keep busy must be a whole number from 1, not '${arg}'\n`);
  process.exit(2);
}

// the loop posts once before spinning, so "spinning" below is true, not hoped for
const LOOP = `require('node:worker_threads').parentPort.postMessage('spinning'); for (;;) {}`;
const workers = Array.from({ length: count }, () => new Worker(LOOP, { eval: true }));
await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
process.stdout.write(`cpu-hog: ${count} busy loop${count === 1 ? '' : 's'} running (pid ${process.pid})\n`);

const stop = (): never => process.exit(0);
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
