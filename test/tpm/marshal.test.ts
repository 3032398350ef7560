import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TpmReader, TpmWriter } from '../../src/tpm/marshal.js';
import { marshalCommand, passwordSession, unmarshalResponse } from '../../src/tpm/command.js';
import { TPM_CC, TPM_RH, TPM_ST } from '../../src/tpm/constants.js';
import { TpmError } from '../../src/tpm/errors.js';
import { EvidentError } from '../../src/errors.js';

test('integers are big-endian and TPM2Bs are sized', () => {
  const b = new TpmWriter().u8(0xab).u16(0x0102).u32(0x80000001).i32(-2).tpm2b(Buffer.from('hi')).toBuffer();
  assert.equal(b.toString('hex'), 'ab' + '0102' + '80000001' + 'fffffffe' + '0002' + '6869');
  const r = new TpmReader(b);
  assert.deepEqual([r.u8(), r.u16(), r.u32(), r.u32()], [0xab, 0x0102, 0x80000001, 0xfffffffe]);
  assert.equal(r.tpm2b().toString(), 'hi');
  r.end();
});

test('a sized structure round-trips and must use all its bytes', () => {
  const b = new TpmWriter().sized((w) => w.u16(7).u32(9)).toBuffer();
  assert.equal(b.toString('hex'), '0006' + '0007' + '00000009');
  assert.deepEqual(
    new TpmReader(b).sized('S', (r) => [r.u16(), r.u32()]),
    [7, 9],
  );
  assert.throws(
    () => new TpmReader(b, 'resp').sized('S', (r) => r.u16()),
    (e: EvidentError) => e.code === 'BAD_INPUT' && e.message === 'resp: S: 4 unexpected bytes after the end at offset 2',
  );
});

test('a truncated buffer is refused with the field, the offset and what is left', () => {
  const b = new TpmWriter().u16(1).tpm2b(Buffer.alloc(10)).toBuffer().subarray(0, 8);
  const r = new TpmReader(b, 'TPM2_ReadPublic response');
  r.u16();
  assert.throws(
    () => r.tpm2b('outPublic'),
    (e: EvidentError) =>
      e.code === 'BAD_INPUT' && e.message === 'TPM2_ReadPublic response: truncated: outPublic needs 10 bytes at offset 4, 4 left',
  );
  assert.throws(() => new TpmReader(Buffer.of(1)).u32('responseCode'), /truncated: responseCode needs 4 bytes at offset 0, 1 left/);
});

test('a TPM2B over its maximum is refused before reading it', () => {
  const b = new TpmWriter().tpm2b(Buffer.alloc(70)).toBuffer();
  assert.throws(() => new TpmReader(b, 'x').tpm2b('authPolicy', 64), /x: authPolicy: size 70 is over its maximum of 64/);
});

test('a TPM2B larger than 16 bits cannot be written', () => {
  assert.throws(() => new TpmWriter().tpm2b(Buffer.alloc(0x10000), 'data'), /data: 65536 bytes do not fit a 16-bit size/);
});

test('a command has its header, handles, authorization area and parameters', () => {
  const cmd = marshalCommand({
    code: TPM_CC.NV_Read,
    handles: [TPM_RH.OWNER, 0x01c00002],
    sessions: [passwordSession(Buffer.from('pw'))],
    params: (w) => w.u16(16).u16(0),
  });
  const expected =
    '8002' + // TPM_ST_SESSIONS
    '00000025' + // size 37
    '0000014e' + // TPM_CC_NV_Read
    '40000001' +
    '01c00002' +
    '0000000b' + // authorizationSize 11
    '40000009' + // TPM_RS_PW
    '0000' + // nonce
    '00' + // attributes
    '00027077' + // password "pw"
    '0010' +
    '0000';
  assert.equal(cmd.toString('hex'), expected);
  assert.equal(cmd.length, 37);
  const noSessions = marshalCommand({ code: TPM_CC.Startup, params: (w) => w.u16(0) });
  assert.equal(noSessions.toString('hex'), '80010000000c000001440000');
});

test('a response is read past its handles, parameter size and authorizations; an error becomes a TpmError', () => {
  const command = { code: TPM_CC.Load, handles: [0x80000000], sessions: [passwordSession()] };
  const params = new TpmWriter().tpm2b(Buffer.from('name')).toBuffer();
  const auth = new TpmWriter().u16(0).u8(1).u16(0).toBuffer();
  const body = new TpmWriter().u32(0x80000001).u32(params.length).bytes(params).bytes(auth).toBuffer();
  const response = new TpmWriter()
    .u16(TPM_ST.SESSIONS)
    .u32(10 + body.length)
    .u32(0)
    .bytes(body)
    .toBuffer();
  const r = unmarshalResponse(command, response, 1);
  assert.deepEqual(r.handles, [0x80000001]);
  assert.equal(r.params.tpm2b().toString(), 'name');
  r.params.end();

  const error = new TpmWriter().u16(TPM_ST.NO_SESSIONS).u32(10).u32(0x98e).toBuffer();
  assert.throws(
    () => unmarshalResponse(command, error, 1),
    (e: TpmError) =>
      e instanceof TpmError &&
      e.code === 'ENVIRONMENT' &&
      e.message === 'TPM2_Load: TPM_RC_AUTH_FAIL (session 1): the authorization HMAC check failed and DA counter incremented [0x98e]',
  );
  assert.throws(() => unmarshalResponse(command, response.subarray(0, 20), 1), /TPM2_Load response: header says \d+ bytes, it has 20/);
  const truncatedBody = Buffer.from(response.subarray(0, 20));
  truncatedBody.writeUInt32BE(20, 2);
  assert.throws(
    () => unmarshalResponse(command, truncatedBody, 1),
    /TPM2_Load response: truncated: parameters needs 6 bytes at offset 18, 2 left/,
  );
});
