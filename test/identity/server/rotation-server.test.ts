import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { it } from 'node:test';
import { startServer } from '../../helpers/identity-server.js';
import { ecKey } from '../../helpers/pki.js';

it('a running server rotates its signing CA on its own timer under one root; an agent attested before keeps working across it', async () => {
  // real time and short lifetimes: TLS peers check certificates against the real clock
  const srv = await startServer({ settings: { ca_ttl: '12s', x509_svid_ttl: '4s' }, tickMs: 50 });
  const server = srv.server;
  try {
    const roots0 = server.ca.bundle().x509Authorities;
    const root = new X509Certificate(roots0[0]!);
    const signingCas = () => server.ca.keys().filter((key) => key.kind === 'x509');
    const firstCaId = signingCas().find((k) => k.status === 'active')!.id;

    // the agent attests under the first signing CA and renews its SVID at about half life, as agents do
    let key = ecKey();
    const attested = await srv
      .anonymous()
      .attest({ type: 'join_token', payload: Buffer.from(await srv.joinToken()), key: { public_key: key.spki } });
    let svid = attested.svid!;
    const firstCa = new X509Certificate(svid.cert_chain[1]!);
    let crossed = false;
    for (let i = 0; i < 12 && !crossed; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      const agent = srv.as(svid, key.privateKey);
      assert.deepEqual((await agent.fetchBundle()).x509_authorities, roots0, 'the bundle is the root, whatever signs');
      const next = ecKey();
      const renewed = await agent.renew({ public_key: next.spki });
      const [leaf, ca] = [renewed.cert_chain[0]!, renewed.cert_chain[1]!].map((d) => new X509Certificate(d));
      assert.ok(leaf!.verify(ca!.publicKey) && ca!.verify(root.publicKey), 'every SVID chains to the same root');
      crossed =
        new X509Certificate(svid.cert_chain[1]!).fingerprint256 === firstCa.fingerprint256 && ca!.fingerprint256 !== firstCa.fingerprint256;
      [svid, key] = [renewed, next];
    }
    assert.ok(crossed, 'an SVID of the first CA was renewed by the next one');
    assert.equal(signingCas().find((k) => k.id === firstCaId)?.status, 'old');
    assert.deepEqual(server.ca.bundle().x509Authorities, roots0, 'the bundle did not change');

    // a new agent that knows only the root attests and calls
    const k = ecKey();
    const res = await srv
      .anonymous()
      .attest({ type: 'join_token', payload: Buffer.from(await srv.joinToken()), key: { public_key: k.spki } });
    assert.equal((await srv.as(res.svid!, k.privateKey).fetchBundle()).x509_authorities.length, 1);
  } finally {
    await srv.close();
  }
});
