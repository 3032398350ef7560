/**
 * The transports against a real swtpm (its TCP server, and its character-device mode behind a
 * pseudo-terminal), and against peers that misbehave on real sockets: nothing listening, an answer too
 * large, no answer, an answer cut short. Every failure is one line naming the TPM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  activateCredential,
  createAk,
  createEk,
  makeCredential,
  openTransport,
  publicKeySha256,
  SwtpmTransport,
  Tpm,
  TPM_RC,
  TpmError,
} from '../../src/tpm/index.js';
import { marshalCommand } from '../../src/tpm/command.js';
import { TPM_CC } from '../../src/tpm/constants.js';
import { EvidentError } from '../../src/errors.js';
import { PYTHON, skipUnlessSwtpm, startCharDevice, startSwtpm } from '../helpers/swtpm.js';

const STARTUP = marshalCommand({ code: TPM_CC.Startup, params: (w) => w.u16(0) });

/** A TCP peer on 127.0.0.1 that does `answer` with each connection. */
async function peer(answer: (s: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => answer(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function oneLine(code: string, message: string | RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof EvidentError, String(e));
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

test('swtpm: a TPM that was not powered on is powered on over the control channel, then started; a second Startup is tolerated', async (t) => {
  if (skipUnlessSwtpm(t)) return;
  const sim = await startSwtpm({ flags: null });
  try {
    const tpm = await sim.open();
    await assert.rejects(tpm.startup(), (e: unknown) => e instanceof TpmError && e.rc.base === TPM_RC.FAILURE);
    await (tpm.transport as SwtpmTransport).powerOn();
    await tpm.startup();
    await tpm.startup();
    // and the TPM works: an EK
    assert.match(publicKeySha256((await createEk(tpm, 'ecc')).public), /^[0-9a-f]{64}$/);
  } finally {
    await sim.stop();
  }
});

test('swtpm: nothing listening is one line naming the address', async () => {
  const { port, close } = await peer(() => undefined);
  await close();
  const transport = await openTransport(`swtpm:host=127.0.0.1,port=${port}`);
  await assert.rejects(
    transport.send(STARTUP),
    oneLine('ENVIRONMENT', `swtpm at 127.0.0.1:${port}: connection refused (is swtpm listening there?)`),
  );
});

test('swtpm: an answer larger than a TPM response is refused without reading it', async () => {
  const p = await peer((s) => s.write(Buffer.from('7fffffff', 'hex')));
  try {
    const transport = new SwtpmTransport('127.0.0.1', p.port, 5000);
    await assert.rejects(
      transport.send(STARTUP),
      oneLine('BAD_INPUT', `swtpm at 127.0.0.1:${p.port}: answer frame says 2147483647 bytes (a TPM response has 10 to 16384)`),
    );
  } finally {
    await p.close();
  }
});

test('swtpm: no answer times out, an answer cut short is named as such', async () => {
  const silent = await peer(() => undefined);
  const short = await peer((s) => s.end(Buffer.from('0000000a8001000000', 'hex')));
  try {
    await assert.rejects(
      new SwtpmTransport('127.0.0.1', silent.port, 300).send(STARTUP),
      oneLine('ENVIRONMENT', `swtpm at 127.0.0.1:${silent.port}: no answer within 0.3 s`),
    );
    await assert.rejects(
      new SwtpmTransport('127.0.0.1', short.port, 5000).send(STARTUP),
      oneLine('ENVIRONMENT', `swtpm at 127.0.0.1:${short.port}: connection closed after 9 bytes of the answer`),
    );
  } finally {
    await silent.close();
    await short.close();
  }
});

test('a command whose header does not say its length is refused before it is sent', async () => {
  const transport = new SwtpmTransport('127.0.0.1', 1, 1000);
  await assert.rejects(
    transport.send(STARTUP.subarray(0, 11)),
    oneLine('BAD_INPUT', 'swtpm at 127.0.0.1:1: command header says 12 bytes, it has 11'),
  );
  await assert.rejects(
    transport.send(Buffer.alloc(4)),
    oneLine('BAD_INPUT', 'swtpm at 127.0.0.1:1: command: 4 bytes is shorter than a TPM header'),
  );
});

test('device: a missing device is one line that says what to do', async () => {
  await assert.rejects(
    Tpm.open('device:/nonexistent/tpmrm0'),
    oneLine(
      'ENVIRONMENT',
      'TPM device /nonexistent/tpmrm0: does not exist (no TPM, or its driver is not loaded; a simulator is swtpm:host=…,port=…)',
    ),
  );
});

test('device: the whole attestation flow through a character device (swtpm behind a pseudo-terminal)', async (t) => {
  if (skipUnlessSwtpm(t)) return;
  if (!existsSync(PYTHON)) return t.skip(`SKIPPED: ${PYTHON} is absent; the device transport was NOT checked against a TPM`);
  const dev = await startCharDevice();
  try {
    const tpm = await Tpm.open(`device:${dev.path}`, { timeoutMs: 10_000 });
    await tpm.startup();
    const ek = await createEk(tpm, 'rsa');
    const ak = await createAk(tpm, ek.handle);
    const secret = randomBytes(32);
    assert.deepEqual(await activateCredential(tpm, ak.handle, ek.handle, makeCredential(ek.public, ak.name, secret)), secret);
    await tpm.close();
  } finally {
    await dev.stop();
  }
});

test('device: a TPM that does not answer times out, and the transport refuses further commands', async (t) => {
  if (!existsSync(PYTHON)) return t.skip(`SKIPPED: ${PYTHON} is absent; the device timeout was NOT checked`);
  const dev = await startCharDevice({ silent: true });
  try {
    const transport = await openTransport(`device:${dev.path}`, { timeoutMs: 300 });
    await assert.rejects(transport.send(STARTUP), oneLine('ENVIRONMENT', `TPM device ${dev.path}: no answer within 0.3 s`));
    await assert.rejects(transport.send(STARTUP), oneLine('ENVIRONMENT', `TPM device ${dev.path}: no answer within 0.3 s`));
    await dev.stop();
    await transport.close();
  } finally {
    await dev.stop();
  }
});
