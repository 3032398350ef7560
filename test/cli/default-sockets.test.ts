// On one machine nothing needs a socket flag: the server's admin socket and the agent's Workload API socket have
// defaults, and every client looks there. This file alone uses the real default paths (one per machine).
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ADMIN_SOCKET } from '../../src/identity/server/api/admin-client.js';
import { runCli } from '../helpers/cli.js';
import { ensureBuilt, evidentCommand, startEvident, type EvidentProcess } from '../helpers/evident-process.js';
import { startServer, TD, type TestServer } from '../helpers/identity-server.js';
import { openTempDir } from '../identity/agent/helpers.js';

describe('default sockets: admin commands and Workload API clients without a flag', { timeout: 120_000 }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let server: TestServer;
  let agent: EvidentProcess | undefined;
  // no SPIFFE_ENDPOINT_SOCKET, no EVIDENT_*: only the defaults
  const cli = (...args: string[]) => runCli(args, { cwd: tmp.dir, env: {} });

  before(async () => {
    ensureBuilt();
    tmp = await openTempDir('evident-defaults-');
    server = await startServer({ settings: { admin_socket: DEFAULT_ADMIN_SOCKET } });
  });

  after(async () => {
    await agent?.stop('SIGKILL');
    await server?.close();
    await tmp?.cleanup();
  });

  it("with no agent running, svid fetch looks at the agent's default socket and says so (exit 3)", async () => {
    const r = await cli('svid', 'fetch', '--timeout', '2');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /\/tmp\/evident-agent\/public\/api\.sock \(the agent's default socket; SPIFFE_ENDPOINT_SOCKET is not set\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('admin commands find the server on its default admin socket', async () => {
    assert.equal(server.adminSocket, DEFAULT_ADMIN_SOCKET);
    assert.equal((await cli('server', 'healthcheck')).code, 0);
    const token = await cli('server', 'token', 'generate');
    assert.equal(token.code, 0, token.stderr);
    const bundle = await cli('server', 'bundle', 'show');
    await writeFile(join(tmp.dir, 'bundle.pem'), bundle.stdout);
    agent = startEvident(
      evidentCommand(),
      ['agent', 'run', '--server', server.address, '--trust-bundle', 'bundle.pem', '--join-token', token.stdout.trim()],
      tmp.dir,
    );
    await agent.waitFor(/agent ready/);
    const agentId = `spiffe://${TD}/evident/agent/join_token/${token.stdout.trim()}`;
    const made = await cli(
      'server',
      'entry',
      'create',
      '--spiffe-id',
      `spiffe://${TD}/ci`,
      '--parent-id',
      agentId,
      '--selector',
      `unix:uid:${process.getuid!()}`,
      '--wait',
    );
    assert.equal(made.code, 0, made.stderr);
  });

  it("svid fetch and run --spiffe-socket fall back to the agent's default socket", async () => {
    const fetched = await cli('svid', 'fetch', '--json');
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal((JSON.parse(fetched.stdout) as { spiffeId: string }).spiffeId, `spiffe://${TD}/ci`);
    const run = await cli('run', '-n', 'build', '--spiffe-socket', '-q', '--', 'true');
    assert.equal(run.code, 0, run.stderr);
    assert.ok((await readdir(tmp.dir)).some((f) => f.startsWith('build.') && f.endsWith('.link')));
    // SPIFFE_ENDPOINT_SOCKET, a plain path, wins over the default
    const env = await runCli(['svid', 'fetch', '--timeout', '2'], {
      cwd: tmp.dir,
      env: { SPIFFE_ENDPOINT_SOCKET: join(tmp.dir, 'none.sock') },
    });
    assert.equal(env.code, 3);
    assert.match(env.stderr, /none\.sock/);
  });
});
