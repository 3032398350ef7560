import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ManualClock } from '../../../src/identity/server/index.js';
import { startServer, TD } from '../../helpers/identity-server.js';
import { ecKey } from '../../helpers/pki.js';

const DAY = 86_400_000;

it('a running server prunes, on its own timer, an agent whose SVID expired more than a day ago', async () => {
  const clock = new ManualClock(Date.now());
  const r = await startServer({ settings: { x509_svid_ttl: '10m' }, clock, tickMs: 20 });
  try {
    const token = await r.joinToken();
    await r.anonymous().attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: ecKey().spki } });
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
