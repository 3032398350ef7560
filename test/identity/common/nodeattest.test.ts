// The node-attestation payloads and challenges both the agent and the server speak (src/identity/common):
// what the agent's attestor clients send is what the server's attestors read.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  answerX509popChallenge,
  JOIN_TOKEN_TYPE,
  joinTokenPayload,
  parseJoinTokenPayload,
  parseX509popPayload,
  verifyX509popAnswer,
  X509POP_TYPE,
} from '../../../src/identity/common/index.js';
import { JoinTokenAttestorClient, X509popAttestorClient } from '../../../src/identity/agent/index.js';
import { JoinTokenAttestor, X509popAttestor } from '../../../src/identity/server/index.js';
import { toPem } from '../../../src/crypto/x509/index.js';

describe('node attestation, as agent and server both speak it', () => {
  it("x509pop: the agent's payload is the chain the server reads, and its answer verifies with the certificate key only", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evident-common-'));
    try {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const chain = [Buffer.from('leaf certificate DER'), Buffer.from('intermediate DER')];
      await writeFile(join(dir, 'node.pem'), chain.map((d) => toPem('CERTIFICATE', d)).join(''));
      await writeFile(join(dir, 'node.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
      const client = await X509popAttestorClient.load(join(dir, 'node.pem'), join(dir, 'node.key'));
      assert.equal(client.type, X509POP_TYPE);
      assert.equal(new X509popAttestor([], { now: () => 0 }).type, X509POP_TYPE);
      assert.deepEqual(parseX509popPayload(await client.payload()), chain);

      const nonce = Buffer.from('a fresh nonce from the server');
      const answer = await client.answer(nonce);
      assert.equal(verifyX509popAnswer(nonce, answer, publicKey), true);
      assert.equal(verifyX509popAnswer(Buffer.from('another nonce'), answer, publicKey), false);
      assert.equal(verifyX509popAnswer(nonce, answer, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), false);
      // a signature over the bare nonce (made for anything else) is not an answer
      assert.equal(verifyX509popAnswer(nonce, sign('sha256', nonce, privateKey), publicKey), false);
      for (const kind of ['rsa', 'ed25519'] as const) {
        const k = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
        assert.equal(verifyX509popAnswer(nonce, answerX509popChallenge(nonce, k.privateKey), k.publicKey), true, kind);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('x509pop: a payload that is not the chain JSON is refused with the reason', () => {
    assert.throws(() => parseX509popPayload(Buffer.from('{')), /JSON/);
    assert.throws(() => parseX509popPayload(Buffer.from('{"certificates":[]}')), /no certificates/);
    assert.throws(() => parseX509popPayload(Buffer.from('{"certificates":[7]}')), /certificate #1 is not a base64 string/);
  });

  it('join token: the agent sends the token, the server reads it back, and refuses what cannot be one', async () => {
    const client = new JoinTokenAttestorClient('tok-1.A_b');
    assert.equal(client.type, JOIN_TOKEN_TYPE);
    assert.equal(new JoinTokenAttestor(undefined as never, { now: () => 0 }).type, JOIN_TOKEN_TYPE);
    assert.deepEqual(await client.payload(), joinTokenPayload('tok-1.A_b'));
    assert.equal(parseJoinTokenPayload(await client.payload()), 'tok-1.A_b');
    for (const bad of ['', 'with space', 'x'.repeat(129), 'semi;colon'])
      assert.equal(parseJoinTokenPayload(joinTokenPayload(bad)), undefined, bad);
  });
});
