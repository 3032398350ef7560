/**
 * One team's verified result is another's input, end to end with the CLI (docs/policy.md, "A VSA as a
 * step's evidence"): team A records its package step, verifies lib.tar against its own layout and writes a
 * signed VSA (`verify --vsa`); team B's layout takes that VSA as the evidence of its step `lib`, pinned to
 * team A's layout, and B's build used lib.tar to make app.tar. B verifies from its folder, and from an
 * evidence store where the VSA is found by the digest of what B's build used. A lib.tar A never verified,
 * a FAILED summary and an expired one are refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir, type TempDir } from '../intoto/verify/fixtures.js';
import { startTestStore, type TestStore } from '../store/test-store.js';

const TOKEN = 'vsa-evidence-token';

const SPEC_A = `expires: 30d
keys: {packager: packager.pub}
steps:
  - name: package
    functionaries: [packager]
    command: cp lib.src lib.tar
    materials: [ALLOW lib.src, DISALLOW *]
    products: [CREATE lib.tar, DISALLOW *]
`;

const SPEC_B = (maxAge: string) => `expires: 30d
keys: {team-a: team-a-verifier.pub, builder: builder.pub}
steps:
  - name: lib
    functionaries: [team-a]
    vsa:
      policy: ../a/root.layout
      resource_uri: pkg:generic/lib.tar
      verified_levels: [EVIDENT_LAYOUT_VERIFIED]
      max_age: ${maxAge}
    products: [CREATE lib.tar, DISALLOW *]
  - name: build
    functionaries: [builder]
    command: cp lib.tar app.tar
    materials: [MATCH lib.tar WITH PRODUCTS FROM lib, DISALLOW *]
    products: [CREATE app.tar, ALLOW lib.tar, DISALLOW *]
`;

let tmp: TempDir;
let a = '';
let b = '';
let store: TestStore;

const cli = (argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> => runCli(argv, { cwd, env });

async function ok(r: Promise<CliResult>): Promise<CliResult> {
  const done = await r;
  assert.equal(done.code, 0, done.stdout + done.stderr);
  return done;
}

/** Team A: its layout, the package step recorded, lib.tar verified and summarized in lib.vsa.json. */
async function teamA(dir: string, source: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const k of ['owner', 'packager', 'verifier']) await ok(cli(['keygen', k], dir));
  await writeFile(join(dir, 'layout.yaml'), SPEC_A);
  await ok(cli(['layout', 'create', 'layout.yaml', '-k', 'owner', '-o', 'root.layout'], dir));
  await writeFile(join(dir, 'lib.src'), source);
  await ok(cli(['run', '-n', 'package', '-k', 'packager', '-q', '-m', 'lib.src', '-p', 'lib.tar', '--', 'cp', 'lib.src', 'lib.tar'], dir));
}

/** Team A verifies lib.tar; `code` is what its verification must exit with. */
async function summarize(dir: string, code: number): Promise<void> {
  const v = await cli(
    ['verify', '-l', 'root.layout', '-k', 'owner.pub', '--product', 'lib.tar', '--vsa', 'lib.vsa.json', '--vsa-key', 'verifier'],
    dir,
  );
  assert.equal(v.code, code, v.stdout + v.stderr);
}

/** Team B: A's verifier key and VSA, A's lib.tar, its own layout, and its build run over lib.tar. */
async function teamB(dir: string, from: string, maxAge = '7d'): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const k of ['owner', 'builder']) await ok(cli(['keygen', k], dir));
  await copyFile(join(from, 'verifier.pub'), join(dir, 'team-a-verifier.pub'));
  await copyFile(join(from, 'lib.vsa.json'), join(dir, 'lib.vsa.json'));
  await copyFile(join(from, 'lib.tar'), join(dir, 'lib.tar'));
  await writeFile(join(dir, 'layout.yaml'), SPEC_B(maxAge));
  await ok(cli(['layout', 'create', 'layout.yaml', '-k', 'owner', '-o', 'root.layout'], dir));
  await ok(cli(['run', '-n', 'build', '-k', 'builder', '-q', '-m', 'lib.tar', '-p', 'app.tar', '--', 'cp', 'lib.tar', 'app.tar'], dir));
}

const verifyB = (dir: string) => cli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], dir);

before(async () => {
  tmp = await tempDir('evident-vsa-evidence-');
  a = join(tmp.dir, 'a');
  b = join(tmp.dir, 'b');
  await teamA(a, 'the library\n');
  await summarize(a, 0);
  await teamB(b, a);
  store = await startTestStore({ token: TOKEN });
});

after(async () => {
  await store?.close();
  await tmp?.cleanup();
});

test("team A's VSA stands for B's step lib: B verifies its own product built from A's output", async () => {
  const layout = JSON.parse(await readFile(join(b, 'root.layout'), 'utf8')) as { signed: { steps: { expected_vsa?: unknown }[] } };
  const { createHash } = await import('node:crypto');
  const policy = createHash('sha256')
    .update(await readFile(join(a, 'root.layout')))
    .digest('hex');
  assert.deepEqual(layout.signed.steps[0]!.expected_vsa, {
    policy: [{ sha256: policy }],
    resource_uri: 'pkg:generic/lib.tar',
    verified_levels: ['EVIDENT_LAYOUT_VERIFIED'],
    max_age: 7 * 86_400,
  });
  const v = await verifyB(b);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(
    v.stdout,
    new RegExp(
      `^✓ lib: 1 of 1 required VSA \\(https://slsa\\.dev/verification_summary/v1\\) by distinct authorized functionaries: .*lib\\.vsa\\.json by [0-9a-f]{8} \\(PASSED, verifier urn:evident:keyid:[0-9a-f]{64}, policy sha256:${policy.slice(0, 12)}…, verified .*, about lib\\.tar\\)$`,
      'm',
    ),
  );
  assert.match(v.stdout, /^✓ build: materials: 2 rules passed over 1 artifact$/m);
  assert.match(v.stdout, /^PASSED/m);
});

test('a lib.tar team A never verified fails the MATCH of the build that used it', async () => {
  const dir = join(tmp.dir, 'b-other-lib');
  await teamB(dir, a);
  await writeFile(join(dir, 'lib.tar'), 'a library nobody verified\n');
  await ok(cli(['run', '-n', 'build', '-k', 'builder', '-q', '-m', 'lib.tar', '-p', 'app.tar', '--', 'cp', 'lib.tar', 'app.tar'], dir));
  const v = await verifyB(dir);
  assert.equal(v.code, 1, v.stdout);
  assert.match(v.stdout, /^✓ lib: 1 of 1 required VSA/m);
  assert.match(v.stdout, /^✗ build: materials: MATCH lib\.tar WITH PRODUCTS FROM lib: lib\.tar/m);
});

test('a FAILED summary, one older than max_age, and one of a layout B did not pin are refused, each saying why', async () => {
  // team A's chain broken: lib.tar changed after its link was recorded, so A's VSA says FAILED
  const broken = join(tmp.dir, 'a-broken');
  await teamA(broken, 'the library\n');
  await writeFile(join(broken, 'lib.tar'), 'changed after the package step\n');
  await summarize(broken, 1);
  const failed = join(tmp.dir, 'b-failed');
  await teamB(failed, broken);
  const v = await verifyB(failed);
  assert.equal(v.code, 1, v.stdout);
  assert.match(
    v.stdout,
    /^✗ lib: 0 of 1 required VSA .*lib\.vsa\.json: says FAILED: urn:evident:keyid:[0-9a-f]{64} found that pkg:generic\/lib\.tar did not follow its policy/m,
  );

  // the honest VSA, but B accepts VSAs for one minute only: verified "now" it passes, 2 minutes later not
  const young = join(tmp.dir, 'b-young');
  await teamB(young, a, '1m');
  const later = new Date(Date.now() + 120_000).toISOString();
  const expired = await cli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--verify-time', later], young);
  assert.equal(expired.code, 1, expired.stdout + expired.stderr);
  assert.match(
    expired.stdout,
    /^✗ lib: 0 of 1 required VSA .*lib\.vsa\.json: has expired: verified at .*, more than 1m \(max_age\) before /m,
  );

  // team A re-signs its layout (another readme: other bytes) and verifies again with it: B pinned the first one
  const relaid = join(tmp.dir, 'a-relaid');
  await cp(a, relaid, { recursive: true });
  await writeFile(join(relaid, 'layout.yaml'), `readme: the same chain, another layout\n${SPEC_A}`);
  await ok(cli(['layout', 'create', 'layout.yaml', '-k', 'owner', '-o', 'root.layout'], relaid));
  await summarize(relaid, 0);
  const pinned = join(tmp.dir, 'b-pinned');
  await teamB(pinned, a);
  await copyFile(join(relaid, 'lib.vsa.json'), join(pinned, 'lib.vsa.json'));
  const wrongPolicy = await verifyB(pinned);
  assert.equal(wrongPolicy.code, 1, wrongPolicy.stdout);
  assert.match(
    wrongPolicy.stdout,
    /^✗ lib: 0 of 1 required VSA .*lib\.vsa\.json: followed the policy "pkg:generic\/root\.layout" \(sha256:[0-9a-f]{12}…\), not one the layout pins \(sha256:[0-9a-f]{12}…\)/m,
  );
});

test("verify --store: the VSA is found in the evidence store by the digest of what B's build used", async () => {
  const env = { EVIDENT_STORE_TOKEN: TOKEN };
  const { readdir } = await import('node:fs/promises');
  const buildLink = (await readdir(b)).find((f) => f.startsWith('build.') && f.endsWith('.link'))!;
  for (const f of [buildLink, 'lib.vsa.json']) await ok(cli(['store', 'push', f, '--store', store.url], b, env));
  const elsewhere = join(tmp.dir, 'b-from-store');
  await mkdir(elsewhere);
  for (const f of ['root.layout', 'owner.pub', 'app.tar']) await copyFile(join(b, f), join(elsewhere, f));
  const v = await cli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--store', store.url, '--product', 'app.tar'], elsewhere, env);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /^✓ lib: 1 of 1 required VSA .*: sha256:[0-9a-f]{64}\.json by [0-9a-f]{8} \(PASSED, /m);
  await rm(elsewhere, { recursive: true });
});
