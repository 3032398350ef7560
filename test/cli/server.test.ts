import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startServer, TD, type TestServer } from '../helpers/identity-server.js';

describe('evident server (CLI against a running server)', () => {
  let r: TestServer;
  let sock: string;
  before(async () => {
    r = await startServer();
    sock = r.adminSocket;
  });
  after(() => r.close());

  it('the admin socket is mode 0600', async () => {
    assert.equal((await stat(sock)).mode & 0o777, 0o600);
  });

  it('entry create, list, show, update, delete', async () => {
    const created = await runCli([
      'server',
      'entry',
      'create',
      '--admin-socket',
      sock,
      '--spiffe-id',
      `spiffe://${TD}/web`,
      '--parent-id',
      `spiffe://${TD}/evident/agent/join_token/x`,
      '--selector',
      'unix:uid:1000',
      'unix:gid:50',
      '--x509-svid-ttl',
      '10m',
      '--dns-name',
      'web.example.org',
      '--hint',
      'web',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const e = JSON.parse(created.stdout) as { id: string; selectors: string[]; x509_svid_ttl: number };
    assert.deepEqual(e.selectors, ['unix:gid:50', 'unix:uid:1000'], 'stored in canonical order');
    assert.equal(e.x509_svid_ttl, 600);
    const shown = await runCli(['server', 'entry', 'show', e.id, '--admin-socket', sock]);
    assert.match(shown.stdout, /SPIFFE ID +: spiffe:\/\/example\.org\/web/);
    assert.match(shown.stdout, /Selector +: unix:uid:1000/);
    const upd = await runCli(['server', 'entry', 'update', e.id, '--admin-socket', sock, '--hint', 'changed', '--admin', '--json']);
    assert.equal(upd.code, 0, upd.stderr);
    assert.equal(JSON.parse(upd.stdout).hint, 'changed');
    assert.equal(JSON.parse(upd.stdout).admin, true);
    const noAdmin = await runCli(['server', 'entry', 'update', e.id, '--admin-socket', sock, '--no-admin', '--json']);
    assert.equal(JSON.parse(noAdmin.stdout).admin, false);
    assert.equal(JSON.parse(noAdmin.stdout).hint, 'changed');
    assert.deepEqual(JSON.parse(upd.stdout).selectors, e.selectors, 'fields not given are kept');
    const list = await runCli(['server', 'entry', 'list', '--admin-socket', sock, '--json']);
    assert.ok((JSON.parse(list.stdout) as { entries: { id: string }[] }).entries.some((x) => x.id === e.id));
    const del = await runCli(['server', 'entry', 'delete', e.id, '--admin-socket', sock]);
    assert.equal(del.code, 0);
    const gone = await runCli(['server', 'entry', 'show', e.id, '--admin-socket', sock]);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /^evident: no entry /);
  });

  it('entry validation reports every bad field in one line, exit 2', async () => {
    const res = await runCli([
      'server',
      'entry',
      'create',
      '--admin-socket',
      sock,
      '--spiffe-id',
      'spiffe://other.org/x',
      '--parent-id',
      'http://nope',
      '--x509-svid-ttl',
      '30',
    ]);
    assert.equal(res.code, 2);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, /spiffe_id: 'spiffe:\/\/other\.org\/x' is in trust domain 'other\.org', not 'example\.org'/);
    assert.match(res.stderr, /parent_id: invalid SPIFFE ID 'http:\/\/nope'/);
    assert.match(res.stderr, /selectors: at least one selector/);
  });

  it('a duplicate entry is refused', async () => {
    const args = [
      'server',
      'entry',
      'create',
      '--admin-socket',
      sock,
      '--spiffe-id',
      `spiffe://${TD}/dup`,
      '--parent-id',
      `spiffe://${TD}/p`,
      '--selector',
      'unix:uid:1',
    ];
    assert.equal((await runCli(args)).code, 0);
    const again = await runCli(args);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /duplicate of entry/);
  });

  it('token generate, bundle show (pem and spiffe), agent list, healthcheck', async () => {
    const tok = await runCli(['server', 'token', 'generate', '--admin-socket', sock, '--ttl', '60']);
    assert.equal(tok.code, 0);
    assert.match(tok.stdout.trim(), /^[0-9a-f-]{36}$/);
    const aliased = await runCli(['server', 'token', 'generate', '--admin-socket', sock, '--spiffe-id', `spiffe://${TD}/node/a`, '--json']);
    assert.equal(JSON.parse(aliased.stdout).spiffe_id, `spiffe://${TD}/node/a`);
    const pem = await runCli(['server', 'bundle', 'show', '--admin-socket', sock]);
    assert.match(pem.stdout, /^-----BEGIN CERTIFICATE-----/);
    const spiffe = await runCli(['server', 'bundle', 'show', '--admin-socket', sock, '--format', 'spiffe']);
    const jwks = JSON.parse(spiffe.stdout) as { keys: { use: string; kid?: string }[]; spiffe_sequence: number };
    assert.ok(jwks.keys.some((k) => k.use === 'x509-svid'));
    assert.ok(jwks.keys.some((k) => k.use === 'jwt-svid' && typeof k.kid === 'string'));
    assert.ok(jwks.spiffe_sequence >= 1);
    assert.equal((await runCli(['server', 'bundle', 'show', '--admin-socket', sock, '--format', 'der'])).code, 2);
    assert.equal((await runCli(['server', 'agent', 'list', '--admin-socket', sock])).stdout.trim(), 'No attested agents');
    const evict = await runCli(['server', 'agent', 'evict', `spiffe://${TD}/evident/agent/join_token/none`, '--admin-socket', sock]);
    assert.equal(evict.code, 2);
    const health = await runCli(['server', 'healthcheck'], { env: { EVIDENT_SERVER_ADMIN_SOCKET: sock } });
    assert.equal(health.code, 0);
  });

  it('a relative --admin-socket is relative to the folder the command runs in, for every admin command', async () => {
    // the root commands once resolved it against the process's folder instead
    const cwd = dirname(sock);
    for (const args of [['healthcheck'], ['root', 'show'], ['bundle', 'show'], ['agent', 'list']]) {
      const res = await runCli(['server', ...args, '--admin-socket', basename(sock)], { cwd });
      assert.equal(res.code, 0, `server ${args.join(' ')}: ${res.stderr}`);
    }
  });
});

describe('evident server (no server)', () => {
  it('an unreachable admin socket is exit 3, an empty one a usage error', async () => {
    const res = await runCli(['server', 'healthcheck', '--admin-socket', '/nonexistent/admin.sock']);
    assert.equal(res.code, 3);
    assert.match(res.stderr, /^evident: \/nonexistent\/admin\.sock: cannot reach the server's admin socket/);
    const uri = await runCli(['server', 'healthcheck', '--admin-socket', 'unix:///nonexistent/admin.sock']);
    assert.match(uri.stderr, /^evident: \/nonexistent\/admin\.sock: cannot reach/, 'a unix:// URI names the same socket');
    assert.equal((await runCli(['server', 'token', 'generate', '--admin-socket', ''])).code, 2);
  });

  it('server run without a trust domain is a one-line usage error', async () => {
    const res = await runCli(['server', 'run', '--data-dir', '/tmp/x']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^evident: trust domain is required/);
  });
});

describe('server run: environment problems are one line, exit 3', () => {
  it('an admin socket path that cannot be bound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evident-run-'));
    await writeFile(join(dir, 'no-such-dir'), 'a file, not a folder\n');
    try {
      const res = await runCli([
        'server',
        'run',
        '--trust-domain',
        'example.org',
        '--data-dir',
        dir,
        '--bind',
        '127.0.0.1:0',
        '--admin-socket',
        join(dir, 'no-such-dir', 'admin.sock'),
      ]);
      assert.equal(res.code, 3, res.stderr);
      assert.match(res.stderr, /^evident: .*admin\.sock: cannot listen on the admin socket/);
      assert.equal(res.stderr.trim().split('\n').length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable PostgreSQL datastore', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evident-run-'));
    try {
      const res = await runCli([
        'server',
        'run',
        '--trust-domain',
        'example.org',
        '--data-dir',
        dir,
        '--datastore',
        'postgres://nobody@127.0.0.1:1/none',
      ]);
      assert.equal(res.code, 3, res.stderr);
      assert.match(res.stderr, /^evident: cannot open PostgreSQL datastore/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
