import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { it } from 'node:test';
import { ManualClock } from '../../../src/identity/server/index.js';
import { startServer } from '../../helpers/identity-server.js';
import { ecKey } from '../../helpers/pki.js';

const H = 3600_000;

it('a running server rotates its CA on its own timer; agents keep working across the rotation', async () => {
  // starts 5 h back so that after the 5 h the test advances, the server's time is real time again
  // (TLS peers check certificates against the real clock)
  const clock = new ManualClock(Date.now() - 5 * H);
  const srv = await startServer({ settings: { ca_ttl: '6h', x509_svid_ttl: '10m' }, clock, tickMs: 50 });
  const server = srv.server;
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
    assert.ok(
      roots.some((r) => r.equals(roots0[0]!)),
      'the old CA is still published',
    );

    // an agent that knows the new bundle attests and calls the server (whose TLS cert is now from the new CA)
    const token = await srv.joinToken();
    const k = ecKey();
    const res = await srv.anonymous().attest({ type: 'join_token', payload: Buffer.from(token), key: { public_key: k.spki } });
    const agent = srv.as(res.svid!, k.privateKey);
    const bundle = await agent.fetchBundle();
    assert.equal(bundle.x509_authorities.length, 2);
    const renewed = await agent.renew({ public_key: ecKey().spki });
    const leaf = new X509Certificate(renewed.cert_chain[0]!);
    const newRoot = roots.find((r) => !r.equals(roots0[0]!))!;
    assert.ok(leaf.verify(new X509Certificate(newRoot).publicKey), 'renewed by the new CA');
  } finally {
    await srv.close();
  }
});
