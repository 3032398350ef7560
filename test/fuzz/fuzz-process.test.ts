/**
 * `npm run fuzz` runs each target in a process of its own, so that an input that kills the process
 * outright (a native assertion in node:crypto aborts it; no JavaScript runs after) is reported as a
 * finding with the input as its reproducer, and the other targets still run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from '../helpers/child-process.js';

const RUN = join(dirname(fileURLToPath(import.meta.url)), 'run.ts');

test('a target whose process aborts on an input is a finding with that input saved; the next target still runs', async () => {
  const out = await mkdtemp(join(tmpdir(), 'evident-fuzz-process-'));
  try {
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', RUN, 'self-test-abort', 'cvss', '--iterations', '3000', '--seed', '7', '--out', out],
        { env: { ...process.env, EVIDENT_FUZZ_SELF_TEST: '1' } },
        (error, stdout) => resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout }),
      );
    });
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /^cvss +3000 inputs .* 0 findings$/m);
    assert.match(result.stdout, /^self-test-abort .* 1 findings\n {2}crash ×1: process died \(SIGABRT\)\n/m);
    const saved = (await readdir(join(out, 'self-test-abort'))).filter((f) => f.startsWith('crash-'));
    assert.equal(saved.length, 1, 'one reproducer');
    assert.match(result.stdout, new RegExp(`reproducer: .*${saved[0]}`));
    assert.ok((await readFile(join(out, 'self-test-abort', saved[0]!))).includes(0), 'the reproducer is the input that aborted');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
