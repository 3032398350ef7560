import assert from 'node:assert/strict';
import { it } from 'node:test';
import { adminRequest, ManualClock } from '../../../src/identity/server/index.js';
import { TD } from './helpers.js';
import { newKey, startServer } from './server-fixture.js';

const DAY = 86_400_000;

it('a running server prunes, on its own timer, an agent whose SVID expired more than a day ago', async () => {
  const clock = new ManualClock(Date.now());
  const r = await startServer({ x509_svid_ttl: '10m' }, clock, 20);
  try {
    const token = ((await adminRequest(r.server.config.adminSocket, 'POST', '/v1/join-tokens', {})).body as { token: string }).token;
    await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: newKey().spki } });
    const agentId = `spiffe://${TD}/evident/agent/join_token/${token}`;
    const agent = await r.server.ds.agents.fetch(agentId);
    assert.ok(agent, 'attested');

    // expired, but less than a day ago: still listed, so an operator can see what expired
    clock.set(agent.certNotAfter + DAY - 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // many ticks
    assert.ok(await r.server.ds.agents.fetch(agentId), 'kept within the grace period');

    clock.set(agent.certNotAfter + DAY + 1);
    for (let i = 0; i < 100 && (await r.server.ds.agents.fetch(agentId)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await r.server.ds.agents.fetch(agentId), undefined, 'pruned');
  } finally {
    await r.close();
  }
});
