import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { pemBlocks } from '../../../src/identity/server/ca/index.js';
import { AgentApiClient } from '../../../src/identity/proto/index.js';
import { newKey } from './server-fixture.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TD = 'e2e.example.org';

/** The real CLI in a real process (npm test builds dist/ first). */
function cliCommand(): string[] {
  return [join(ROOT, 'bin/evident')];
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [...cliCommand(), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

interface ServerProc {
  proc: ChildProcess;
  bind: string;
  logs: () => string;
  exited: Promise<number>;
}

/** Starts `evident server run` and waits for its readiness log line. */
function startServerProcess(dataDir: string): Promise<ServerProc> {
  return new Promise((resolveStart, reject) => {
    const proc = spawn(process.execPath, [...cliCommand(), 'server', 'run', '--trust-domain', TD, '--data-dir', dataDir, '--bind', '127.0.0.1:0'], { cwd: ROOT });
    let logs = '';
    const exited = new Promise<number>((r) => proc.on('close', (code) => r(code ?? -1)));
    const timer = setTimeout(() => reject(new Error(`server not ready in 30 s:\n${logs}`)), 30_000);
    proc.stderr!.on('data', (d: Buffer) => {
      logs += d.toString();
      for (const line of logs.split('\n')) {
        if (!line.includes('"server ready"')) continue;
        clearTimeout(timer);
        resolveStart({ proc, bind: (JSON.parse(line) as { bind: string }).bind, logs: () => logs, exited });
        return;
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before ready:\n${logs}`)));
  });
}

async function stop(s: ServerProc): Promise<number> {
  s.proc.kill('SIGTERM');
  return s.exited;
}

describe('end to end: the real server process, the CLI, and an agent API client', () => {
  let dir: string;
  let sock: string;
  let server: ServerProc | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evident-e2e-'));
    sock = join(dir, 'admin.sock');
  });
  after(async () => {
    if (server && server.proc.exitCode === null) await stop(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('issues an SVID that chains to `server bundle show`, and a restart loses nothing', async () => {
    server = await startServerProcess(dir);
    assert.equal((await cli(['server', 'healthcheck', '--admin-socket', sock])).code, 0);

    const tok = await cli(['server', 'token', 'generate', '--admin-socket', sock]);
    assert.equal(tok.code, 0, tok.stderr);
    const token = tok.stdout.trim();
    const agentId = `spiffe://${TD}/evident/agent/join_token/${token}`;
    const created = await cli(['server', 'entry', 'create', '--admin-socket', sock, '--spiffe-id', `spiffe://${TD}/ci/builder`,
      '--parent-id', agentId, '--selector', 'unix:uid:1000', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const entryId = (JSON.parse(created.stdout) as { id: string }).id;
    const bundle = await cli(['server', 'bundle', 'show', '--admin-socket', sock]);
    const roots = pemBlocks(bundle.stdout);
    assert.equal(roots.length, 1);

    // the test agent: attest over TLS (trusting the bundle the CLI printed), then mTLS with its SVID
    const agentKey = newKey();
    const anon = new AgentApiClient({ address: server.bind, trustDomain: TD, trustBundle: roots });
    const attested = await anon.attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: agentKey.spki } });
    anon.close();
    assert.equal(attested.svid?.spiffe_id, agentId);
    const identity = { certChain: attested.svid!.cert_chain, privateKeyPem: agentKey.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
    const agent = new AgentApiClient({ address: server.bind, trustDomain: TD, trustBundle: roots, identity });
    const [res] = await agent.signX509Svids([{ entry_id: entryId, key: { public_key: newKey().spki } }]);
    agent.close();
    assert.equal(res!.error, '');
    const leaf = new X509Certificate(res!.svid!.cert_chain[0]!);
    const root = new X509Certificate(roots[0]!);
    assert.equal(leaf.subjectAltName, `URI:spiffe://${TD}/ci/builder`);
    assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey), 'the SVID chains to the bundle');

    // graceful stop, then a restart on the same data dir
    assert.equal(await stop(server), 0);
    assert.match(server.logs(), /"shutting down"/);
    assert.equal((await cli(['server', 'healthcheck', '--admin-socket', sock])).code, 3, 'down means exit 3');
    server = await startServerProcess(dir);

    const shown = await cli(['server', 'entry', 'show', entryId, '--admin-socket', sock, '--json']);
    assert.equal(shown.code, 0, 'the entry survived');
    const agents = await cli(['server', 'agent', 'list', '--admin-socket', sock, '--json']);
    assert.deepEqual((JSON.parse(agents.stdout) as { agents: { spiffe_id: string }[] }).agents.map((a) => a.spiffe_id), [agentId], 'the agent survived');
    const bundle2 = await cli(['server', 'bundle', 'show', '--admin-socket', sock]);
    assert.equal(bundle2.stdout, bundle.stdout, 'the CA survived');
    const again = new AgentApiClient({ address: server.bind, trustDomain: TD, trustBundle: roots });
    await assert.rejects(again.attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: newKey().spki } }), /already used/, 'the token use survived');
    again.close();
    const agent2 = new AgentApiClient({ address: server.bind, trustDomain: TD, trustBundle: roots, identity });
    assert.deepEqual((await agent2.fetchEntries()).map((e) => e.id), [entryId], 'the old agent SVID still works');
    agent2.close();
    assert.equal(await stop(server), 0);
  });
});
