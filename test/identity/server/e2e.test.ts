import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pemCertificates } from '../../../src/crypto/x509/index.js';
import { AgentApiClient } from '../../../src/identity/proto/index.js';
import { ensureBuilt, evidentCommand, REPO_ROOT, runEvident, startEvident, type EvidentProcess } from '../../helpers/evident-process.js';
import { ecKey } from '../../helpers/pki.js';

const TD = 'e2e.example.org';

/** `evident server run` as a real process, once it has logged that it is ready, and the address it bound. */
async function startServerProcess(cmd: string[], dataDir: string): Promise<{ proc: EvidentProcess; bind: string }> {
  const proc = startEvident(
    cmd,
    ['server', 'run', '--trust-domain', TD, '--data-dir', dataDir, '--bind', '127.0.0.1:0', '--admin-socket', join(dataDir, 'admin.sock')],
    REPO_ROOT,
  );
  await proc.waitFor(/"server ready"/, 30_000);
  const ready = proc
    .stderr()
    .split('\n')
    .find((line) => line.includes('"server ready"'))!;
  return { proc, bind: (JSON.parse(ready) as { bind: string }).bind };
}

describe('end to end: the real server process, the CLI, and an agent API client', () => {
  let cmd: string[];
  let dir: string;
  let sock: string;
  let server: { proc: EvidentProcess; bind: string } | undefined;
  const cli = (args: string[]) => runEvident(cmd, args, REPO_ROOT);
  before(async () => {
    ensureBuilt();
    cmd = evidentCommand();
    dir = await mkdtemp(join(tmpdir(), 'evident-e2e-'));
    sock = join(dir, 'admin.sock');
  });
  after(async () => {
    await server?.proc.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('issues an SVID that chains to `server bundle show`, and a restart loses nothing', async () => {
    server = await startServerProcess(cmd, dir);
    assert.equal((await cli(['server', 'healthcheck', '--admin-socket', sock])).code, 0);

    const tok = await cli(['server', 'token', 'generate', '--admin-socket', sock]);
    assert.equal(tok.code, 0, tok.stderr);
    const token = tok.stdout.trim();
    const agentId = `spiffe://${TD}/evident/agent/join_token/${token}`;
    const created = await cli([
      'server',
      'entry',
      'create',
      '--admin-socket',
      sock,
      '--spiffe-id',
      `spiffe://${TD}/ci/builder`,
      '--parent-id',
      agentId,
      '--selector',
      'unix:uid:1000',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const entryId = (JSON.parse(created.stdout) as { id: string }).id;
    const bundle = await cli(['server', 'bundle', 'show', '--admin-socket', sock]);
    const roots = pemCertificates(bundle.stdout);
    assert.equal(roots.length, 1);

    // the test agent: attest over TLS (trusting the bundle the CLI printed), then mTLS with its SVID
    const agentKey = ecKey();
    const anon = new AgentApiClient({ address: server.bind, trustDomain: TD, trustBundle: roots });
    const attested = await anon.attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: agentKey.spki } });
    anon.close();
    assert.equal(attested.svid?.spiffe_id, agentId);
    const identity = {
      certChain: attested.svid!.cert_chain,
      privateKeyPem: agentKey.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    };
    const agent = new AgentApiClient({ address: server.bind, trustDomain: TD, trustBundle: roots, identity });
    const [res] = await agent.signX509Svids([{ entry_id: entryId, key: { public_key: ecKey().spki } }]);
    agent.close();
    assert.equal(res!.error, '');
    const [leaf, ca] = res!.svid!.cert_chain.map((d) => new X509Certificate(d));
    const root = new X509Certificate(roots[0]!);
    assert.equal(leaf!.subjectAltName, `URI:spiffe://${TD}/ci/builder`);
    assert.ok(leaf!.checkIssued(ca!) && leaf!.verify(ca!.publicKey), 'the SVID is signed by the signing CA it carries');
    assert.ok(ca!.checkIssued(root) && ca!.verify(root.publicKey), 'which chains to the bundle');

    // graceful stop, then a restart on the same data dir
    assert.equal(await server.proc.stop(), 0);
    assert.match(server.proc.stderr(), /"shutting down"/);
    assert.equal((await cli(['server', 'healthcheck', '--admin-socket', sock])).code, 3, 'down means exit 3');
    server = await startServerProcess(cmd, dir);

    const shown = await cli(['server', 'entry', 'show', entryId, '--admin-socket', sock, '--json']);
    assert.equal(shown.code, 0, 'the entry survived');
    const agents = await cli(['server', 'agent', 'list', '--admin-socket', sock, '--json']);
    assert.deepEqual(
      (JSON.parse(agents.stdout) as { agents: { spiffe_id: string }[] }).agents.map((a) => a.spiffe_id),
      [agentId],
      'the agent survived',
    );
    const bundle2 = await cli(['server', 'bundle', 'show', '--admin-socket', sock]);
    assert.equal(bundle2.stdout, bundle.stdout, 'the CA survived');
    const again = new AgentApiClient({ address: server.bind, trustDomain: TD, trustBundle: roots });
    await assert.rejects(
      again.attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: ecKey().spki } }),
      /already used/,
      'the token use survived',
    );
    again.close();
    const agent2 = new AgentApiClient({ address: server.bind, trustDomain: TD, trustBundle: roots, identity });
    assert.deepEqual(
      (await agent2.fetchEntries()).map((e) => e.id),
      [entryId],
      'the old agent SVID still works',
    );
    agent2.close();
    assert.equal(await server.proc.stop(), 0);
  });
});
