/**
 * A certificate given where a public key is asked for (in-toto-golang's LoadKey does the same) whose key
 * cannot be read: OpenSSL parses the certificate and fails only when the key is asked for. It must be a
 * one-line BAD_KEY, not OpenSSL's `digital envelope routines::decode error` (found by `npm run fuzz -- pem`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePublicKey } from '../../src/crypto/key-files.js';
import { parseCertificateDer, parseCertificatesPem, toPem } from '../../src/crypto/x509/pem.js';
import { EvidentError } from '../../src/errors.js';
import { makeRoot } from '../helpers/pki.js';

test('a certificate whose EC point is not on its curve is refused as BAD_KEY, naming the certificate', async () => {
  const root = await makeRoot('bad point');
  assert.ok(parsePublicKey(root.pem), 'the unaltered certificate is read');
  const der = Buffer.from(root.der);
  const point = der.indexOf(Buffer.concat([Buffer.from([0x03, 0x42, 0x00, 0x04]), root.key.spki.subarray(-64, -60)]));
  assert.ok(point > 0, 'the certificate holds its key');
  der[point + 10]! ^= 0x01; // an X coordinate off the curve
  assert.throws(
    () => parsePublicKey(toPem('CERTIFICATE', der)),
    (e) => e instanceof EvidentError && e.code === 'BAD_KEY' && /^the certificate's public key cannot be read/.test(e.message),
  );
});

test('a certificate whose key OpenSSL cannot decode is unparsable where certificates are read (chains, bundles, layouts)', async () => {
  const root = await makeRoot('bad point');
  const der = Buffer.from(root.der);
  der[der.indexOf(Buffer.concat([Buffer.from([0x03, 0x42, 0x00, 0x04]), root.key.spki.subarray(-64, -60)])) + 10]! ^= 0x01;
  assert.throws(
    () => parseCertificatesPem(toPem('CERTIFICATE', der)),
    (e) => e instanceof EvidentError && /^certificate #1 cannot be parsed \(.*decode error/.test(e.message),
  );
  assert.throws(
    () => parseCertificateDer(der),
    (e) => e instanceof EvidentError && /cannot be parsed/.test(e.message),
  );
});
