/**
 * What a person sees when the agent cannot reach its server, or the server cannot listen: one line naming
 * the address and what to check, from the real `evident` process (Node prints its warnings there, and
 * grpc-js its own log lines), never grpc-js's transport notes or a Node deprecation warning.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, evidentCommand, runEvident, startEvident } from '../helpers/evident-process.js';
import { runCli } from '../helpers/cli.js';
import { freePort, startServer, type TestServer } from '../helpers/identity-server.js';
import { openTempDir } from '../identity/agent/helpers.js';

/** Words of grpc-js and Node that must never reach a user. */
const INTERNALS = /Resolution note|No connection established|Last error|No address added|DeprecationWarning|\(node:\d+\)|\bat .+:\d+:\d+\)/;

/** The error lines (`evident: …`, not `evident: warning: …`) among stderr's lines; log lines are JSON (stderr is a pipe). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{') && !l.startsWith('evident: warning:'));
}

describe('connection errors are one clean line', () => {
  let cmd: string[];
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let server: TestServer;
  before(async () => {
    ensureBuilt();
    cmd = evidentCommand();
    tmp = await openTempDir('evident-conn-');
    server = await startServer({ settings: { admin_socket: `${tmp.dir}/admin.sock` } });
  });
  after(async () => {
    await server.close();
    await tmp.cleanup();
  });

  const agentArgs = (address: string, name: string): string[] => [
    'agent',
    'run',
    '--server',
    address,
    '--trust-domain',
    'example.org',
    '--insecure-bootstrap',
    '--join-token',
    'no-such-token',
    '--data-dir',
    `${tmp.dir}/${name}`,
    '--socket',
    `${tmp.dir}/${name}/api.sock`,
  ];

  it('agent run against a closed port: exit 3, one line naming the address, "connection refused"', async () => {
    const port = await freePort();
    const r = await runEvident(cmd, agentArgs(`127.0.0.1:${port}`, 'closed'), tmp.dir);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [
      `evident: cannot connect to the server at 127.0.0.1:${port}: connection refused (is the server running, and listening on that address?)`,
    ]);
    assert.doesNotMatch(r.stderr, INTERNALS);
  });

  it('agent run against a host name that does not resolve: one line, "no such host"', async () => {
    const r = await runEvident(cmd, agentArgs('no-such-host.invalid:8081', 'dns'), tmp.dir);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [
      "evident: cannot connect to the server at no-such-host.invalid:8081: no such host 'no-such-host.invalid' (check the address)",
    ]);
    assert.doesNotMatch(r.stderr, INTERNALS);
  });

  it('agent run with --insecure-bootstrap against a real server prints no Node deprecation warning', async () => {
    const token = await server.joinToken();
    const args = agentArgs(server.address, 'insecure');
    args[args.indexOf('no-such-token')] = token;
    const agent = startEvident(cmd, args, tmp.dir);
    try {
      await agent.waitFor(/agent ready/, 30_000);
    } finally {
      await agent.stop();
    }
    assert.doesNotMatch(agent.stderr(), INTERNALS);
  });

  it('agent healthcheck on a socket nothing serves: one line saying so', async () => {
    const socket = `${tmp.dir}/no-agent.sock`;
    const r = await runCli(['agent', 'healthcheck', '--socket', socket]);
    assert.equal(r.code, 3);
    assert.equal(
      r.stderr,
      `evident: ${socket}: agent is not healthy: no such socket (is the agent running, and serving on this socket?)\n`,
    );
  });

  it('server run on an address in use: exit 3, one line, and no grpc-js log line', async () => {
    const r = await runEvident(
      cmd,
      ['server', 'run', '--trust-domain', 'example.org', '--data-dir', `${tmp.dir}/srv`, '--bind', server.address],
      tmp.dir,
    );
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [
      `evident: cannot listen on ${server.address}: the address is in use (is another server running? choose another --bind)`,
    ]);
    assert.doesNotMatch(r.stderr, INTERNALS);
  });
});
