import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isEvidentError } from '../../../src/errors.js';
import { runCommand } from '../../../src/intoto/record/index.js';
import { decodeLikePython } from '../../../src/intoto/record/run-command.js';
import { removeDir, tempDir } from './helpers.js';

function sink(): { write(chunk: string): void; text(): string } {
  let text = '';
  return { write: (c: string) => void (text += c), text: () => text };
}

test('recorded streams: stdout, stderr and the exit code; output is also teed', async () => {
  const out = sink();
  const err = sink();
  const byproducts = await runCommand(['sh', '-c', 'echo "hello wörld"; echo oops >&2; exit 3'], {
    recordStreams: true,
    tee: { stdout: out, stderr: err },
  });
  assert.deepEqual(byproducts, { stdout: 'hello wörld\n', stderr: 'oops\n', 'return-value': 3 });
  assert.equal(out.text(), 'hello wörld\n');
  assert.equal(err.text(), 'oops\n');
});

test('streams not recorded: empty strings, as the reference records them', async () => {
  const byproducts = await runCommand(['sh', '-c', 'echo hidden; exit 0'], { recordStreams: false });
  assert.deepEqual(byproducts, { stdout: '', stderr: '', 'return-value': 0 });
});

test('a signal-killed command records minus the signal number (Python returncode)', async () => {
  const byproducts = await runCommand(['sh', '-c', 'kill -TERM $$'], { recordStreams: true, tee: { stdout: sink(), stderr: sink() } });
  assert.equal(byproducts['return-value'], -15);
  const killed = await runCommand(['sh', '-c', 'kill -KILL $$'], { recordStreams: false });
  assert.equal(killed['return-value'], -9);
});

test('output is read as the reference reads it: universal newlines, UTF-8', async () => {
  const byproducts = await runCommand(['printf', 'a\\r\\nb\\rc\\n\\xc3\\xa9'], {
    recordStreams: true,
    tee: { stdout: sink(), stderr: sink() },
  });
  assert.equal(byproducts.stdout, 'a\nb\nc\né');
  assert.equal(decodeLikePython(Buffer.from('\uFEFFx\r\r\n')), '\uFEFFx\n\n', 'BOM kept, each CR and CRLF a newline');
});

test('cwd and env reach the command', async () => {
  const dir = tempDir();
  try {
    const byproducts = await runCommand(['sh', '-c', 'pwd; echo "$EVIDENT_TEST_VAR"'], {
      recordStreams: true,
      cwd: dir,
      env: { ...process.env, EVIDENT_TEST_VAR: 'set' },
      tee: { stdout: sink(), stderr: sink() },
    });
    assert.match(byproducts.stdout, new RegExp(`${dir.split('/').pop()}\nset\n$`));
  } finally {
    removeDir(dir);
  }
});

test('a command that cannot be started is a clear error', async () => {
  await assert.rejects(runCommand(['evident-no-such-command-x'], { recordStreams: true }), (e) => {
    return isEvidentError(e) && e.code === 'COMMAND_FAILED' && e.message === "cannot run 'evident-no-such-command-x': command not found";
  });
  const dir = tempDir();
  try {
    const script = join(dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    await assert.rejects(runCommand([script], { recordStreams: false }), (e) => {
      return isEvidentError(e) && e.code === 'COMMAND_FAILED' && /permission denied/.test(e.message);
    });
  } finally {
    removeDir(dir);
  }
  await assert.rejects(runCommand([], { recordStreams: false }), (e) => isEvidentError(e) && e.code === 'BAD_USAGE');
});

test('a timeout kills the command and fails the run', async () => {
  const start = Date.now();
  await assert.rejects(runCommand(['sleep', '10'], { recordStreams: false, timeout: 200 }), (e) => {
    return isEvidentError(e) && e.code === 'COMMAND_FAILED' && /timed out after 200 ms/.test(e.message);
  });
  assert.ok(Date.now() - start < 5000);
});

test('a background process holding the pipes open does not hang the run', async () => {
  const start = Date.now();
  const byproducts = await runCommand(['sh', '-c', 'echo started; sleep 5 & exit 0'], {
    recordStreams: true,
    tee: { stdout: sink(), stderr: sink() },
  });
  assert.equal(byproducts.stdout, 'started\n');
  assert.ok(Date.now() - start < 3000);
});
