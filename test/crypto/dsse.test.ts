import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addEnvelopeSignature, pae, parseEnvelope, signEnvelope, verifyEnvelope, envelopePayload } from '../../src/crypto/dsse.js';
import { generatePrivateKey } from '../../src/crypto/key-files.js';

test('PAE matches the DSSE specification example', () => {
  assert.equal(
    pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
    'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
  );
  // lengths are in bytes, not characters
  assert.equal(pae('t', Buffer.from('✓')).toString(), 'DSSEv1 1 t 3 ✓');
  assert.equal(pae('', Buffer.alloc(0)).toString(), 'DSSEv1 0  0 ');
});

test('an envelope signed by several keys verifies each key once; tampering breaks it', () => {
  const a = generatePrivateKey('ed25519');
  const b = generatePrivateKey('ecdsa');
  const c = generatePrivateKey('ed25519');
  const payload = Buffer.from('{"hello":"world"}');
  let env = signEnvelope('application/vnd.in-toto+json', payload, [a]);
  env = addEnvelopeSignature(env, b);
  assert.equal(envelopePayload(env).toString(), payload.toString());
  assert.deepEqual(
    verifyEnvelope(env, [a.publicKey, b.publicKey, c.publicKey])
      .map((k) => k.keyid)
      .sort(),
    [a.keyid, b.keyid].sort(),
  );
  // a duplicated signature entry does not count twice
  const doubled = { ...env, signatures: [...env.signatures, env.signatures[0]!] };
  assert.equal(verifyEnvelope(doubled, [a.publicKey]).length, 1);
  // the payload type is signed too
  assert.deepEqual(verifyEnvelope({ ...env, payloadType: 'text/plain' }, [a.publicKey, b.publicKey]), []);
  assert.deepEqual(verifyEnvelope({ ...env, payload: Buffer.from('{"hello":"mars!"}').toString('base64') }, [a.publicKey]), []);
  // a signature claiming another key's keyid is not tried against the wrong key
  const lying = { ...env, signatures: [{ keyid: c.keyid, sig: env.signatures[0]!.sig }] };
  assert.deepEqual(verifyEnvelope(lying, [a.publicKey, c.publicKey]), []);
});

test('an envelope changed in place after a first check is checked again, not against the bytes it had', () => {
  const a = generatePrivateKey('ed25519');
  const env = signEnvelope('application/vnd.in-toto+json', Buffer.from('{"n":1}'), [a]);
  assert.equal(verifyEnvelope(env, [a.publicKey]).length, 1);
  env.payload = Buffer.from('{"n":2}').toString('base64');
  assert.equal(envelopePayload(env).toString(), '{"n":2}');
  assert.deepEqual(verifyEnvelope(env, [a.publicKey]), []);
  env.payload = Buffer.from('{"n":1}').toString('base64');
  assert.equal(verifyEnvelope(env, [a.publicKey]).length, 1);
  env.payloadType = 'text/plain';
  assert.deepEqual(verifyEnvelope(env, [a.publicKey]), []);
});

test('parseEnvelope is strict about shape and names the problem', () => {
  const ok = { payloadType: 'x', payload: 'aGk=', signatures: [{ keyid: 'k', sig: 'c2ln' }] };
  assert.deepEqual(parseEnvelope(ok), ok);
  assert.throws(
    () => parseEnvelope({ ...ok, extra: 1 }, 'a.link'),
    (e: Error & { file?: string }) => e.file === 'a.link' && /unknown field 'extra'/.test(e.message),
  );
  assert.throws(() => parseEnvelope({ ...ok, payload: '***' }), /payload must be base64/);
  assert.throws(() => parseEnvelope({ ...ok, signatures: {} }), /signatures must be a list/);
  assert.throws(() => parseEnvelope({ ...ok, signatures: [{ sig: 5 }] }), /signatures\[0\]\.sig must be base64/);
  assert.throws(() => parseEnvelope([]), /JSON object/);
});
