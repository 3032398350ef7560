// End to end: the real `node bin/evident server run` and `node bin/evident agent run` processes, real workloads as separate
// processes (another uid, another executable), the SPIFFE library's client. Needs the compiled CLI
// (built here when dist/ is stale) and the peercred addon (npx node-gyp rebuild).
import { appendFile, copyFile, lstat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, Metadata, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { adminRequest } from '../../../src/identity/server/index.js';
import { WorkloadApiClient, workloadApiClientConstructor } from '../../../src/spiffe/workloadapi/index.js';
import { runWorkload, type WorkloadRun } from './child.js';
import {
  ensureBuilt,
  evidentCommand,
  runEvident,
  startEvident,
  startJoinedAgent,
  type EvidentProcess,
} from '../../helpers/evident-process.js';
import { freePort } from '../../helpers/identity-server.js';
import { canSwitchUser, NOBODY, openTempDir, sha256File } from './helpers.js';

const TD = 'e2e.example';

// The limit is for a hang, not for speed: with every core busy (npm run test:under-load) the file takes ~45 s, and a
// machine loaded by other work on top of that takes several times longer.
describe('identity end to end: evident server run + evident agent run', { timeout: 240_000 }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let cmd: string[];
  let server: EvidentProcess;
  let agent: EvidentProcess;
  let port: number;
  let token: string;
  let agentId: string;
  let socket: string;
  let address: string;
  let otherNode: string;
  let rotation: WorkloadRun;
  const serverDir = (): string => join(tmp.dir, 'server');
  const adminSocket = (): string => join(serverDir(), 'admin.sock');
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> =>
    (await adminRequest(adminSocket(), method, path, body)).body;
  const entry = (path: string, selectors: string[], ttl?: number): Promise<unknown> =>
    admin('POST', '/v1/entries', {
      spiffe_id: `spiffe://${TD}${path}`,
      parent_id: agentId,
      selectors,
      ...(ttl ? { x509_svid_ttl: ttl } : {}),
    });
  const startServer = (): EvidentProcess =>
    startEvident(
      cmd,
      ['server', 'run', '--trust-domain', TD, '--data-dir', serverDir(), '--bind', `127.0.0.1:${port}`, '--admin-socket', adminSocket()],
      tmp.dir,
    );

  before(async () => {
    ensureBuilt();
    cmd = evidentCommand();
    tmp = await openTempDir('evident-e2e-');
    port = await freePort();
    socket = join(tmp.dir, 'agent', 'public', 'api.sock');
    address = `unix://${socket}`;
    // Another executable: the same node binary plus one byte, so its sha256 differs.
    otherNode = join(tmp.dir, 'other-node');
    const copying = copyFile(process.execPath, otherNode).then(() => appendFile(otherNode, '\n'));
    server = startServer();
    await server.waitFor(/server ready/);
    const gen = await runEvident(cmd, ['server', 'token', 'generate', '--admin-socket', adminSocket()], tmp.dir);
    assert.equal(gen.code, 0, gen.stderr);
    token = gen.stdout.trim();
    agentId = `spiffe://${TD}/evident/agent/join_token/${token}`;
    await writeFile(join(tmp.dir, 'bundle.pem'), (await admin('GET', '/v1/bundle?format=pem')) as string);
    const nodeHash = await sha256File(process.execPath);
    await entry('/workload/main', ['unix:uid:0', `unix:sha256:${nodeHash}`]);
    await entry('/workload/rotating', ['unix:uid:0', `unix:sha256:${nodeHash}`], 6);
    agent = await startJoinedAgent(cmd, { port, token, socket, dataDir: join(tmp.dir, 'agent', 'data') }, tmp.dir);
    // The rotation watcher runs alongside the next tests: a 6 s SVID rotates after ~3 s.
    rotation = runWorkload(['watch-x509', address, '2']);
    await copying;
  });

  after(async () => {
    rotation?.kill();
    await agent?.stop('SIGKILL');
    await server?.stop('SIGKILL');
    await tmp?.cleanup();
  });

  it('answers its health check', async () => {
    const r = await runEvident(cmd, ['agent', 'healthcheck', '--socket', socket], tmp.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /healthy/);
  });

  it('gives a workload process the SVIDs of its entries; another uid or another binary gets PermissionDenied', async (t) => {
    const mine = runWorkload(['fetch-x509', address]);
    const otherBinary = runWorkload(['fetch-x509', address], { node: otherNode });
    const otherUid = canSwitchUser() ? runWorkload(['fetch-x509', address], { uid: NOBODY }) : undefined;
    const [[m], [b]] = await Promise.all([mine.done, otherBinary.done]);
    assert.deepEqual(m?.ids, [`spiffe://${TD}/workload/main`, `spiffe://${TD}/workload/rotating`]);
    assert.equal(b?.error?.reason, 'PERMISSION_DENIED', JSON.stringify(b));
    if (!otherUid) return t.skip('not root: cannot run a workload as another uid');
    const [u] = await otherUid.done;
    assert.equal(u?.error?.reason, 'PERMISSION_DENIED', JSON.stringify(u));
  });

  it('refuses a call without the security header', async () => {
    const Ctor = workloadApiClientConstructor();
    const raw = new Ctor(address, credentials.createInsecure()) as unknown as Client & {
      FetchX509SVID(r: object, md: Metadata): ClientReadableStream<unknown>;
    };
    try {
      const err = await new Promise<ServiceError>((resolve) => {
        const s = raw.FetchX509SVID({}, new Metadata());
        s.on('data', () => undefined);
        s.on('error', resolve);
      });
      assert.equal(err.code, status.INVALID_ARGUMENT);
    } finally {
      raw.close();
    }
  });

  it('rotates a short-lived SVID (6 s) and the open stream delivers the new one', async () => {
    const [first, second] = await rotation.done;
    const idx = first!.ids!.indexOf(`spiffe://${TD}/workload/rotating`);
    assert.ok(idx >= 0);
    assert.deepEqual(second!.ids, first!.ids);
    assert.notEqual(second!.serials![idx], first!.serials![idx]);
  });

  it('a reused join token is refused', async () => {
    const r = await runEvident(
      cmd,
      [
        'agent',
        'run',
        '--server',
        `127.0.0.1:${port}`,
        '--trust-bundle',
        'bundle.pem',
        '--join-token',
        token,
        '--socket',
        join(tmp.dir, 'a2.sock'),
        '--data-dir',
        join(tmp.dir, 'agent2'),
      ],
      tmp.dir,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /evident: agent: node attestation \(join_token\) refused by the server: .*already used/);
  });

  it('survives a server outage with valid cached SVIDs; the server restarts (SQLite) with nothing lost', async () => {
    const client = WorkloadApiClient.create({ address, timeoutMs: 5000 });
    try {
      assert.equal(await server.stop(), 0, server.stderr());
      const during = await client.fetchX509SVIDs();
      assert.ok(during.some((s) => s.id.toString() === `spiffe://${TD}/workload/main`));
      server = startServer();
      await server.waitFor(/server ready/);
      const entries = ((await admin('GET', '/v1/entries')) as { entries: { spiffe_id: string }[] }).entries.map((e) => e.spiffe_id).sort();
      assert.deepEqual(entries, [`spiffe://${TD}/workload/main`, `spiffe://${TD}/workload/rotating`]);
      const agents = ((await admin('GET', '/v1/agents')) as { agents: { spiffe_id: string }[] }).agents.map((a) => a.spiffe_id);
      assert.deepEqual(agents, [agentId]);
      // the agent catches up: a new entry reaches the workload without an agent restart
      await entry('/workload/after-restart', ['unix:uid:0']);
      let ids: string[] = [];
      for (let i = 0; i < 150 && !ids.includes(`spiffe://${TD}/workload/after-restart`); i++) {
        await new Promise((r) => setTimeout(r, 100));
        ids = (await client.fetchX509SVIDs()).map((s) => s.id.toString());
      }
      assert.ok(ids.includes(`spiffe://${TD}/workload/after-restart`), ids.join(','));
    } finally {
      client.close();
    }
  });

  it('shuts down gracefully on SIGTERM and removes its socket', async () => {
    assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr());
    await assert.rejects(lstat(socket), /ENOENT/);
    const r = await runEvident(cmd, ['agent', 'healthcheck', '--socket', socket], tmp.dir);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /not healthy/);
  });
});
