import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { adminRequest, IdentityServer, ManualClock, resolveServerConfig } from '../../../src/identity/server/index.js';
import { AgentApiClient } from '../../../src/identity/proto/index.js';
import { TD } from './helpers.js';
import { newKey } from './server-fixture.js';

const H = 3600_000;

it('a running server rotates its CA on its own timer; agents keep working across the rotation', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'evident-rot-'));
  // starts 5 h back so that after the 5 h the test advances, the server's time is real time again
  // (TLS peers check certificates against the real clock)
  const clock = new ManualClock(Date.now() - 5 * H);
  const config = resolveServerConfig({ flags: { trust_domain: TD, data_dir: dir, bind: '127.0.0.1:0', ca_ttl: '6h', x509_svid_ttl: '10m' }, file: {}, env: {} }, dir);
  const server = await IdentityServer.start({ config, clock, tickMs: 50 });
  const clients: AgentApiClient[] = [];
  try {
    const roots0 = server.ca.bundle().x509Authorities;

    const waitFor = async (what: string, cond: () => boolean) => {
      for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(cond(), what);
    };
    clock.advance(3 * H); // half of 6 h: the next CA is prepared and published
    await waitFor('next CA published', () => server.ca.bundle().x509Authorities.length === 2);
    clock.advance(2 * H); // one sixth left: the next CA signs
    await waitFor('next CA active', () => server.ca.keys().some((key) => key.kind === 'x509' && key.status === 'old'));
    const roots = server.ca.bundle().x509Authorities;
    assert.ok(roots.some((r) => r.equals(roots0[0]!)), 'the old CA is still published');

    // an agent that knows the new bundle attests and calls the server (whose TLS cert is now from the new CA)
    const token = ((await adminRequest(config.adminSocket, 'POST', '/v1/join-tokens', {})).body as { token: string }).token;
    const k = newKey();
    const anon = new AgentApiClient({ address: server.agentApiAddress, trustDomain: TD, trustBundle: roots });
    clients.push(anon);
    const res = await anon.attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: k.spki } });
    const identity = { certChain: res.svid!.cert_chain, privateKeyPem: k.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
    const agent = new AgentApiClient({ address: server.agentApiAddress, trustDomain: TD, trustBundle: roots, identity });
    clients.push(agent);
    const bundle = await agent.fetchBundle();
    assert.equal(bundle.x509_authorities.length, 2);
    const renewed = await agent.renew({ public_key: newKey().spki });
    const leaf = new X509Certificate(renewed.cert_chain[0]!);
    const newRoot = roots.find((r) => !r.equals(roots0[0]!))!;
    assert.ok(leaf.verify(new X509Certificate(newRoot).publicKey), 'renewed by the new CA');
  } finally {
    for (const c of clients) c.close();
    await server.stop(1000);
    await rm(dir, { recursive: true, force: true });
  }
});
