import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from '../helpers/child-process.js';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { SpiffeId } from '../../src/spiffe/spiffeid/index.js';
import { JwtBundle, JwtBundleSet, X509Bundle } from '../../src/spiffe/bundle/index.js';
import { X509Svid } from '../../src/spiffe/x509svid/index.js';
import { runCli } from '../helpers/cli.js';
import { ecKey, makeCa, makeSvid, type TestCa } from '../helpers/pki.js';
import { FakeWorkloadApi, x509Response } from '../spiffe/fake-workload-api-server.js';

describe('evident svid', () => {
  let dir: string;
  let api: FakeWorkloadApi;
  let ca: TestCa;
  let fed: TestCa;
  let socket: string;
  const jwtKey = ecKey();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evident-cli-svid-'));
    ca = await makeCa('example.org', new Date());
    fed = await makeCa('federated.org', new Date());
    api = await FakeWorkloadApi.start(join(dir, 'agent.sock'));
    socket = api.address;
    const a = await makeSvid(ca, '/ci/builder', { now: new Date() });
    const b = await makeSvid(ca, '/ci/tester', { now: new Date(), hint: 'test' });
    api.setX509(
      x509Response(
        [
          { svid: a, bundle: ca.bundle },
          { svid: b, bundle: ca.bundle },
        ],
        [fed.bundle],
      ),
    );
    api.jwt = {
      ids: [SpiffeId.parse('spiffe://example.org/ci/builder')],
      key: jwtKey.privateKey,
      kid: 'k1',
      bundles: JwtBundleSet.of([JwtBundle.fromAuthorities(ca.td, { k1: jwtKey.publicKey })]),
    };
  });
  after(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('fetch prints the SPIFFE ID, expiry and chain', async () => {
    const r = await runCli(['svid', 'fetch', '--socket', socket]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SPIFFE ID: {2}spiffe:\/\/example\.org\/ci\/builder$/m);
    assert.match(r.stdout, /^Expires: {4}\d{4}-\d\d-\d\dT/m);
    assert.match(r.stdout, /\[0\] O=SPIFFE \(issuer: O=evident, CN=example.org root CA/);
    assert.match(r.stdout, /example\.org \(1 CA\), federated\.org \(1 CA\)/);
  });

  it('fetch --write DIR writes svid.pem, svid.key (0600) and bundle.pem like spire-agent', async () => {
    const out = join(dir, 'out');
    const r = await runCli(['svid', 'fetch', '--write', 'out', '--json'], { env: { SPIFFE_ENDPOINT_SOCKET: socket }, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { spiffeId: string; written: string[]; chain: unknown[] };
    assert.equal(json.spiffeId, 'spiffe://example.org/ci/builder');
    assert.deepEqual(
      json.written,
      ['svid.pem', 'svid.key', 'bundle.pem'].map((f) => join(out, f)),
    );
    assert.equal((await stat(join(out, 'svid.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(out, 'svid.pem'))).mode & 0o777, 0o644);
    assert.equal((await stat(join(out, 'bundle.pem'))).mode & 0o777, 0o644);
    const svid = await X509Svid.load(join(out, 'svid.pem'), join(out, 'svid.key'));
    assert.equal(svid.id.toString(), 'spiffe://example.org/ci/builder');
    assert.match(await readFile(join(out, 'svid.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    const bundle = X509Bundle.parse(ca.td, await readFile(join(out, 'bundle.pem')));
    assert.ok(bundle.equals(ca.bundle));
    // a second fetch replaces the files atomically and leaves no temporary files behind
    assert.equal(
      (await runCli(['svid', 'fetch', '--socket', socket, '--write', out, '--spiffe-id', 'spiffe://example.org/ci/tester'])).code,
      0,
    );
    assert.equal((await X509Svid.load(join(out, 'svid.pem'), join(out, 'svid.key'))).id.toString(), 'spiffe://example.org/ci/tester');
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual((await readdir(out)).sort(), ['bundle.pem', 'svid.key', 'svid.pem']);
  });

  it('fetch --hint and --spiffe-id pick; an unknown one is exit 2', async () => {
    const r = await runCli(['svid', 'fetch', '--socket', socket, '--hint', 'test', '--json']);
    assert.equal(JSON.parse(r.stdout).spiffeId, 'spiffe://example.org/ci/tester');
    const bad = await runCli(['svid', 'fetch', '--socket', socket, '--spiffe-id', 'spiffe://example.org/nobody']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^evident: workloadapi: no SVID with SPIFFE ID "spiffe:\/\/example.org\/nobody"/);
    const invalid = await runCli(['svid', 'fetch', '--socket', socket, '--spiffe-id', 'not-an-id']);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /--spiffe-id: spiffeid: scheme is missing or invalid/);
  });

  it('environment problems exit 3 with one line; a bad socket URI exits 2', async () => {
    const none = await runCli(['svid', 'fetch']);
    assert.equal(none.code, 3);
    assert.match(none.stderr, /SPIFFE_ENDPOINT_SOCKET/);
    const missing = await runCli(['svid', 'fetch', '--socket', `unix://${join(dir, 'missing.sock')}`]);
    assert.equal(missing.code, 3);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    const tcp = await runCli(['svid', 'fetch', '--socket', 'tcp://127.0.0.1:1']);
    assert.equal(tcp.code, 2);
    assert.match(tcp.stderr, /"unix" scheme/);
  });

  it('PermissionDenied: "no identity issued to this process", exit 3', async () => {
    const dir2 = await mkdtemp(join(tmpdir(), 'evident-cli-svid-denied-'));
    const denied = await FakeWorkloadApi.start(join(dir2, 'agent.sock'));
    try {
      denied.setX509({ code: status.PERMISSION_DENIED, details: 'no identity issued' });
      const r = await runCli(['svid', 'fetch', '--socket', denied.address]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /^evident: workloadapi: no identity issued to this process/);
    } finally {
      await denied.stop();
      await rm(dir2, { recursive: true, force: true });
    }
  });

  it('fetch-jwt prints a token that validate-jwt accepts; a wrong audience exits 1', async () => {
    const r = await runCli(['svid', 'fetch-jwt', '--socket', socket, '--audience', 'spiffe://example.org/api']);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    assert.equal(token.split('.').length, 3);
    const ok = await runCli([
      'svid',
      'validate-jwt',
      '--socket',
      socket,
      '--audience',
      'spiffe://example.org/api',
      '--token',
      token,
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).spiffeId, 'spiffe://example.org/ci/builder');
    const wrong = await runCli(['svid', 'validate-jwt', '--socket', socket, '--audience', 'spiffe://example.org/other', '--token', token]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^evident: token is not valid: /);
    const usage = await runCli(['svid', 'fetch-jwt', '--socket', socket]);
    assert.equal(usage.code, 2);
  });

  it('validate-jwt reads the token from stdin', async () => {
    const token = (await runCli(['svid', 'fetch-jwt', '--socket', socket, '--audience', 'aud1'])).stdout;
    await writeFile(join(dir, 'token'), token);
    const runner = fileURLToPath(new URL('./cli-runner.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', runner, 'svid', 'validate-jwt', '--socket', socket, '--audience', 'aud1'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin.end(token);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.match(stdout, /^token is valid for spiffe:\/\/example.org\/ci\/builder/);
  });
});
