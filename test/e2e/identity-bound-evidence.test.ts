// Identity-bound evidence end to end, with the real processes: `evident server run`, `evident agent run`
// (node-attested by a join token), a registration entry for this test's workload, `evident run
// --spiffe-socket` signing a step with the SVID the agent issues, and `evident verify` against layouts
// that trust the server's root and constrain the step to a SPIFFE ID.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityPlane } from '../../src/demo/identity-plane.js';
import { runEvident, type ProcessResult } from '../../src/demo/evident-process.js';
import { makeCa } from '../helpers/pki.js';

const BUILDER = 'spiffe://demo.evident/ci/builder';
let root: string;
let identity: IdentityPlane;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'evident-e2e-identity-'));
  identity = new IdentityPlane(join(root, 'identity'));
  await identity.start(['runner']);
  await identity.register(BUILDER, 'runner');
});

after(async () => {
  await identity?.stop();
  await rm(root, { recursive: true, force: true });
});

/** A project folder: the owner's and developer's keys, the source, and the server's bundle as a root. */
async function project(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'src', 'hello.c'), 'int main(void) { return 0; }\n');
  await writeFile(join(dir, 'identity-bundle.pem'), await readFile(identity.bundlePath));
  await must(runEvident(['keygen', 'keys/owner'], dir));
  await must(runEvident(['keygen', 'keys/developer'], dir));
  return dir;
}

function spec(options: { builder?: string; rootFile?: string } = {}): string {
  return [
    'expires: 1d',
    'keys: {developer: keys/developer.pub}',
    `roots: {corp: ${options.rootFile ?? 'identity-bundle.pem'}}`,
    'steps:',
    '  - name: code',
    '    functionaries: [developer]',
    '    products: [CREATE src/hello.c, DISALLOW *]',
    '  - name: build',
    `    functionaries: [{spiffe: "${options.builder ?? BUILDER}", roots: [corp]}]`,
    '    command: cp src/hello.c hello.c.out',
    '    materials: [MATCH src/hello.c WITH PRODUCTS FROM code, DISALLOW *]',
    '    products: [CREATE hello.c.out, DISALLOW *]',
    '',
  ].join('\n');
}

async function must(pending: Promise<ProcessResult>): Promise<ProcessResult> {
  const r = await pending;
  assert.equal(r.code, 0, r.stderr);
  return r;
}

/** Signs off the code with the developer's key and runs the build with `build` signing flags. */
async function pipeline(dir: string, layoutSpec: string, buildSigner: string[]): Promise<void> {
  await writeFile(join(dir, 'layout.yaml'), layoutSpec);
  await must(runEvident(['layout', 'create', 'layout.yaml', '-k', 'keys/owner', '-o', 'root.layout'], dir));
  await must(runEvident(['run', '-n', 'code', '-k', 'keys/developer', '-x', '-p', 'src/hello.c'], dir));
  await must(
    runEvident(
      ['run', '-n', 'build', ...buildSigner, '-m', 'src/hello.c', '-p', 'hello.c.out', '--', 'cp', 'src/hello.c', 'hello.c.out'],
      dir,
    ),
  );
}

const verify = (dir: string) => runEvident(['verify', '-l', 'root.layout', '-k', 'keys/owner.pub'], dir);

test('a step signed with the SVID from the real agent verifies, and the report names the SPIFFE ID', async () => {
  const dir = await project('honest');
  await pipeline(dir, spec(), identity.signWith('runner'));
  const r = await verify(dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✓ build: 1 of 1 link signed by spiffe:\/\/demo\.evident\/ci\/builder/);
  assert.match(r.stdout, /certificates checked at .* \(verification time\)/);
});

test('a layout expecting another SPIFFE ID fails, naming who signed', async () => {
  const dir = await project('other-id');
  await pipeline(dir, spec({ builder: 'spiffe://demo.evident/ci/release' }), identity.signWith('runner'));
  const r = await verify(dir);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /✗ build: .*link by spiffe:\/\/demo\.evident\/ci\/builder does not satisfy build's constraints \(uris must be \[spiffe:\/\/demo\.evident\/ci\/release\]\)/,
  );
});

test("a layout trusting another trust domain's CA refuses the SVID", async () => {
  const dir = await project('other-ca');
  await writeFile(join(dir, 'other-bundle.pem'), (await makeCa('other.example', new Date())).pem);
  await pipeline(dir, spec({ rootFile: 'other-bundle.pem' }), identity.signWith('runner'));
  const r = await verify(dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✗ build: .*does not chain to a trusted root/);
});

test('a link altered after signing fails', async () => {
  const dir = await project('altered');
  await pipeline(dir, spec(), identity.signWith('runner'));
  const file = (await readdir(dir)).find((f) => f.startsWith('build.') && f.endsWith('.link'))!;
  const text = await readFile(join(dir, file), 'utf8');
  await writeFile(join(dir, file), text.replace(/"cp"/, '"cat"'));
  const r = await verify(dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✗ build: .*signature does not verify/);
});

test('a static key signing a step that requires an identity fails', async () => {
  const dir = await project('static-key');
  await must(runEvident(['keygen', '-t', 'ecdsa', 'keys/builder'], dir));
  await pipeline(dir, spec(), ['-k', 'keys/builder']);
  const r = await verify(dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✗ build: .*without a certificate; build requires a signer identity \(spiffe:\/\/demo\.evident\/ci\/builder\)/);
});
