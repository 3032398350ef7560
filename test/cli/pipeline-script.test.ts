/**
 * examples/hello-world/pipeline.sh is "the part to copy into your own CI": a step that fails must stop it
 * there, with the failed step's link written (the evidence) and nothing after it run. Run for real: an
 * identity server and an agent (the demo's), the script under sh, a compile that fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from '../helpers/child-process.js';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVIDENT_BIN_DIR } from '../../src/demo/evident-process.js';
import { DEMO_TRUST_DOMAIN, IdentityPlane } from '../../src/demo/identity-plane.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/hello-world', import.meta.url));

test('pipeline.sh stops at a failed step: the build link is written, nothing after the build runs', { timeout: 180_000 }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'evident-pipeline-'));
  const plane = new IdentityPlane(join(root, 'plane'));
  t.after(async () => {
    await plane.stop();
    await rm(root, { recursive: true, force: true });
  });
  const dir = join(root, 'project');
  await cp(EXAMPLE, dir, { recursive: true });
  await plane.start(['build-runner']);
  await plane.register(`spiffe://${DEMO_TRUST_DOMAIN}/ci/builder`, 'build-runner');
  await cp(plane.bundlePath, join(dir, 'identity-bundle.pem'));
  await writeFile(join(dir, 'src', 'hello.c'), 'int main(void) { return }\n'); // does not compile

  const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      'sh',
      ['pipeline.sh'],
      {
        cwd: dir,
        env: {
          ...process.env,
          PATH: `${EVIDENT_BIN_DIR}${delimiter}${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
          SPIFFE_ENDPOINT_SOCKET: `unix://${plane.runners.get('build-runner')!.socket}`,
          EVIDENT_TIMESTAMP_SERVER: plane.tsaUrl,
          EVIDENT_KEY_PASSWORD: '',
        },
      },
      (e, _stdout, stderr) => resolve({ code: typeof e?.code === 'number' ? e.code : 0, stderr }),
    ),
  );
  assert.equal(result.code, 1, `the compiler's exit code ends the pipeline:\n${result.stderr}`);
  assert.match(result.stderr, /evident: build: the command exited with 1; the link records the failure/);
  const files = await readdir(dir);
  assert.ok(
    files.some((f) => /^build\.[0-9a-f]{8}\.link$/.test(f)),
    `the failed build's link is written: ${files.join(' ')}`,
  );
  for (const after of ['package.', 'scan.', 'hello-image.tar', 'deliver']) {
    assert.ok(!files.some((f) => f.startsWith(after)), `${after}… must not exist: the pipeline went on past the failed build`);
  }
});
