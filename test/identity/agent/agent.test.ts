import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, JoinTokenAttestorClient, X509popAttestorClient, type AgentOptions } from '../../../src/identity/agent/index.js';
import { EvidentError } from '../../../src/errors.js';
import { X509Bundle, X509BundleSet } from '../../../src/spiffe/bundle/index.js';
import { TrustDomain } from '../../../src/spiffe/spiffeid/index.js';
import { WorkloadApiClient, WorkloadApiError } from '../../../src/spiffe/workloadapi/index.js';
import { verify } from '../../../src/spiffe/x509svid/index.js';
import { startServer, TD, type TestServer } from '../../helpers/identity-server.js';
import { makeCa, makeCert } from '../../helpers/pki.js';
import { openTempDir } from './helpers.js';

const UID = process.getuid?.() ?? 0;

describe('agent core against an in-process server', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let server: TestServer;
  let roots: Buffer[];
  let seq = 0;
  const agents: Agent[] = [];

  before(async () => {
    tmp = await openTempDir('evident-agent-core-');
    server = await startServer({ dataDir: join(tmp.dir, 'server') });
    roots = server.roots();
  });

  after(async () => {
    for (const a of agents) await a.stop();
    await server.close();
    await tmp.cleanup();
  });

  async function startAgent(o: Partial<AgentOptions> & { attestor: AgentOptions['attestor'] }, name = `a${++seq}`): Promise<Agent> {
    const a = await Agent.start({
      serverAddress: server.address,
      bootstrapRoots: roots,
      dataDir: join(tmp.dir, name, 'data'),
      socketPath: join(tmp.dir, name, 'api.sock'),
      syncIntervalMs: 300,
      rpcTimeoutMs: 2000,
      ...o,
    });
    agents.push(a);
    return a;
  }

  const client = (a: Agent): WorkloadApiClient => WorkloadApiClient.create({ address: `unix://${a.socketPath}`, timeoutMs: 5000 });

  it('attests with a join token, keeps its SVID and key (0600) in the data dir, and serves its workloads', async () => {
    const token = await server.joinToken();
    const a = await startAgent({ attestor: new JoinTokenAttestorClient(token) }, 'jt');
    assert.equal(a.spiffeId, `spiffe://${TD}/evident/agent/join_token/${token}`);
    const key = await stat(join(tmp.dir, 'jt', 'data', 'agent-svid.key'));
    assert.equal(key.mode & 0o777, 0o600);
    assert.equal((await stat(join(tmp.dir, 'jt', 'data'))).mode & 0o777, 0o700);
    const entry = await server.createEntry('/workload/me', a.spiffeId, [`unix:uid:${UID}`]);
    await server.createEntry('/workload/other-uid', a.spiffeId, [`unix:uid:${UID + 4242}`]);
    await a.syncNow();
    const c = client(a);
    try {
      const ctx = await c.fetchX509Context();
      assert.deepEqual(
        ctx.svids.map((s) => s.id.toString()),
        [entry.spiffe_id],
      );
      const bundle = X509Bundle.parse(TrustDomain.parse(TD), Buffer.concat(roots));
      assert.equal(verify(ctx.svids[0]!, X509BundleSet.of([bundle])).id.toString(), entry.spiffe_id);
      // the key came from the agent and never from the server: it is in the response, and matches the leaf
      assert.equal(ctx.svids[0]!.privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      const jwt = await c.fetchJWTSVID({ audience: 'spiffe://other.example/api' });
      assert.equal(jwt.id.toString(), entry.spiffe_id);
      assert.equal((await c.validateJWTSVID(jwt.marshal(), 'spiffe://other.example/api')).id.toString(), entry.spiffe_id);
    } finally {
      c.close();
    }
  });

  it('renews its own SVID and rotates workload SVIDs at half-life (injected clock), pushing them to open streams', async () => {
    let offset = 0;
    const now = (): number => Date.now() + offset;
    const token = await server.joinToken();
    const a = await startAgent({ attestor: new JoinTokenAttestorClient(token), clock: { now } });
    await server.createEntry('/workload/rotating', a.spiffeId, [`unix:uid:${UID}`]);
    await a.syncNow();
    const c = client(a);
    const ac = new AbortController();
    try {
      const watch = c.watchX509Context({ signal: ac.signal });
      const first = (await watch.next()).value!;
      const workloadBefore = a.cache.x509Svid(a.cache.listEntries()[0]!.id)!;
      const agentSvidFile = join(tmp.dir, `a${seq}`, 'data', 'agent-svid.pem');
      const agentBefore = await readFile(agentSvidFile, 'utf8');
      const svidLife = first.svids[0]!.expiresAt.getTime() - Date.now();
      offset = svidLife * 0.6; // past half-life, before expiry
      await a.syncNow();
      const second = (await watch.next()).value!;
      assert.equal(second.svids[0]!.id.toString(), first.svids[0]!.id.toString());
      assert.notEqual(second.svids[0]!.leaf.serialNumber, first.svids[0]!.leaf.serialNumber);
      assert.notDeepEqual(a.cache.x509Svid(a.cache.listEntries()[0]!.id)!.privateKey, workloadBefore.privateKey); // a new key each rotation
      assert.notEqual(await readFile(agentSvidFile, 'utf8'), agentBefore, 'the agent renewed its own SVID too');
    } finally {
      ac.abort();
      c.close();
    }
  });

  it('keeps serving cached SVIDs while the server is down, and catches up when it returns (SQLite keeps everything)', async () => {
    const token = await server.joinToken();
    const a = await startAgent({ attestor: new JoinTokenAttestorClient(token) });
    const e1 = await server.createEntry('/workload/outage', a.spiffeId, [`unix:uid:${UID}`]);
    await a.syncNow();
    const port = server.port;
    await server.close();
    await a.syncNow(); // a round against a dead server: logged, nothing lost
    const c = client(a);
    try {
      assert.deepEqual(
        (await c.fetchX509SVIDs()).map((s) => s.id.toString()),
        [e1.spiffe_id],
      );
      server = await startServer({ dataDir: join(tmp.dir, 'server'), port });
      const e2 = await server.createEntry('/workload/after-outage', a.spiffeId, [
        `unix:uid:${UID}`,
        'unix:gid:' + (process.getgid?.() ?? 0),
      ]);
      // the agent's own rounds reconnect (gRPC backs off after the outage); wait for it to catch up
      const want = [e1.spiffe_id, e2.spiffe_id].sort();
      let got: string[] = [];
      for (let i = 0; i < 100 && got.join() !== want.join(); i++) {
        await new Promise((r) => setTimeout(r, 100));
        got = (await c.fetchX509SVIDs()).map((s) => s.id.toString()).sort();
      }
      assert.deepEqual(got, want);
    } finally {
      c.close();
    }
  });

  it('restarts from its data dir without attesting again; a reused join token is refused clearly', async () => {
    const token = await server.joinToken();
    const a = await startAgent({ attestor: new JoinTokenAttestorClient(token) }, 'restart');
    const id = a.spiffeId;
    await a.stop();
    const again = await startAgent({ attestor: new JoinTokenAttestorClient(token) }, 'restart');
    assert.equal(again.spiffeId, id);
    await assert.rejects(
      startAgent({ attestor: new JoinTokenAttestorClient(token) }, 'fresh-dir'),
      (e: unknown) => e instanceof EvidentError && e.code === 'BAD_INPUT' && /already used/.test(e.message),
    );
  });

  it('stops with a clear error when a join-token agent is evicted (it cannot attest again)', async () => {
    const token = await server.joinToken();
    const a = await startAgent({ attestor: new JoinTokenAttestorClient(token) });
    await server.admin('DELETE', `/v1/agents?id=${encodeURIComponent(a.spiffeId)}`);
    await a.syncNow();
    await assert.rejects(a.done, (e: unknown) => e instanceof EvidentError && /new --join-token/.test(e.message));
  });

  it('without a trust bundle refuses to start, unless told to bootstrap insecurely', async () => {
    await assert.rejects(
      startAgent({ attestor: new JoinTokenAttestorClient('unused'), bootstrapRoots: undefined }, 'no-bundle'),
      (e: unknown) => e instanceof EvidentError && e.code === 'BAD_USAGE' && /--trust-bundle/.test(e.message),
    );
    const a = await startAgent(
      { attestor: new JoinTokenAttestorClient(await server.joinToken()), bootstrapRoots: undefined, insecureBootstrap: true },
      'insecure',
    );
    assert.equal(a.trustDomain, TD);
    assert.match(a.spiffeId, /\/evident\/agent\/join_token\//);
  });

  it('says PermissionDenied to a workload no entry matches', async () => {
    const a = await startAgent({ attestor: new JoinTokenAttestorClient(await server.joinToken()) });
    const c = client(a);
    try {
      await assert.rejects(c.fetchX509SVID(), (e: unknown) => e instanceof WorkloadApiError && e.reason === 'PERMISSION_DENIED');
    } finally {
      c.close();
    }
  });

  it('pushes a newly prepared root to bundle streams (root rotation, step 1)', async () => {
    const rotating = await startServer({ settings: { ca_ttl: '20', x509_svid_ttl: '8', jwt_svid_ttl: '8' } });
    try {
      const a = await startAgent({
        attestor: new JoinTokenAttestorClient(await rotating.joinToken()),
        serverAddress: rotating.address,
        bootstrapRoots: rotating.roots(),
      });
      await rotating.createEntry('/workload/ca-rotation', a.spiffeId, [`unix:uid:${UID}`]);
      await a.syncNow();
      const c = client(a);
      const ac = new AbortController();
      try {
        const watch = c.watchX509Bundles({ signal: ac.signal });
        const td = TrustDomain.parse(TD);
        assert.equal((await watch.next()).value?.get(td)?.authorities.length, 1);
        await rotating.admin('POST', '/v1/roots');
        const next = await Promise.race([
          watch.next(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no new bundle in 15 s')), 15_000)),
        ]);
        assert.equal(next.value?.get(td)?.authorities.length, 2);
      } finally {
        ac.abort();
        c.close();
        await a.stop();
      }
    } finally {
      await rotating.close();
    }
  });

  it('x509pop: attests with a node certificate, and attests again after eviction', async () => {
    const nodeCa = await makeCa('nodes.example', new Date());
    const nodeCert = await makeCert({ subject: 'CN=node-1', issuer: nodeCa, ca: false, now: new Date() });
    const dir = join(tmp.dir, 'x509pop');
    await writeFile(join(tmp.dir, 'node-ca.pem'), nodeCa.pem);
    await writeFile(join(tmp.dir, 'node.pem'), nodeCert.pem);
    await writeFile(join(tmp.dir, 'node.key'), nodeCert.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const port = server.port;
    await server.close();
    server = await startServer({ dataDir: join(tmp.dir, 'server'), port, settings: { x509pop_ca_bundle: join(tmp.dir, 'node-ca.pem') } });
    const attestor = await X509popAttestorClient.load(join(tmp.dir, 'node.pem'), join(tmp.dir, 'node.key'));
    const a = await startAgent({ attestor, dataDir: join(dir, 'data') }, 'x509pop');
    assert.match(a.spiffeId, new RegExp(`^spiffe://${TD.replace('.', '\\.')}/evident/agent/x509pop/[0-9a-f]{40}$`));
    await server.createEntry('/workload/x509pop', a.spiffeId, [`unix:uid:${UID}`]);
    await server.admin('DELETE', `/v1/agents?id=${encodeURIComponent(a.spiffeId)}`);
    await a.syncNow(); // refused -> attests again with the same certificate
    await a.syncNow();
    const c = client(a);
    try {
      assert.equal((await c.fetchX509SVID()).id.toString(), `spiffe://${TD}/workload/x509pop`);
    } finally {
      c.close();
    }
  });
});
