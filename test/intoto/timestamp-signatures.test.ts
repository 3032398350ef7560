/**
 * timestampSignatures (src/intoto/runlib/timestamp-signatures.ts) and the `timestamps` option of runStep and
 * recordStop, as a library user calls them: which signatures get tokens, in which order, what a failing
 * TSA does. Real TSAs on 127.0.0.1; the CLI flags are test/cli/timestamp-signatures.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey } from '../../src/crypto/key-files.js';
import { addEnvelopeSignature, signEnvelope } from '../../src/crypto/dsse.js';
import { timestampedBytes } from '../../src/crypto/signature-timestamps.js';
import { EvidentError } from '../../src/errors.js';
import { loadMetadataFile, signMetablock } from '../../src/intoto/models/metablock.js';
import type { Link } from '../../src/intoto/models/types.js';
import { recordStart, recordStop } from '../../src/intoto/runlib/record-step.js';
import { runStep } from '../../src/intoto/runlib/run-step.js';
import { timestampSignatures } from '../../src/intoto/runlib/timestamp-signatures.js';
import { startTsaServer, type TsaServer } from '../../src/time/http.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { tsaPki, type TsaPki } from '../time/helpers.js';

let pkiA: TsaPki;
let pkiB: TsaPki;
let tsaA: TsaServer;
let tsaB: TsaServer;
let down: string;
let dir: string;

before(async () => {
  [pkiA, pkiB] = await Promise.all([tsaPki(), tsaPki()]);
  [tsaA, tsaB] = await Promise.all([startTsaServer({ authority: pkiA.authority() }), startTsaServer({ authority: pkiB.authority() })]);
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  down = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/tsa`;
  await new Promise((resolve) => probe.close(resolve));
  dir = await mkdtemp(join(tmpdir(), 'evident-tsp-lib-'));
});
after(async () => {
  await Promise.all([tsaA.close(), tsaB.close()]);
  await rm(dir, { recursive: true, force: true });
});

const LINK: Link = { _type: 'link', name: 'build', command: [], materials: {}, products: {}, byproducts: {}, environment: {} };

/** The message of the error `p` rejects with, and its code. */
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof EvidentError, String(e));
    return { code: e.code, message: e.message };
  }
  assert.fail('did not fail');
}

describe('timestampSignatures', () => {
  it('stamps only the last newSignatures, one token per TSA in the order given, and leaves its input unchanged', async () => {
    const [a, b] = [generatePrivateKey('ed25519'), generatePrivateKey('ecdsa')];
    const first = signMetablock(LINK, [a]);
    const both = signMetablock(LINK, [b], first.signatures);
    const snapshot = structuredClone(both);
    const stamped = await timestampSignatures(both, { servers: [tsaB.url, tsaA.url] }, { newSignatures: 1 });
    assert.deepEqual(both, snapshot, 'the input is not changed');
    assert.deepEqual(stamped.signatures[0], both.signatures[0], 'the signature that was there gets no token');
    const tokens = stamped.signatures[1]!.timestamps!;
    assert.equal(tokens.length, 2);
    const raw = timestampedBytes(stamped.signatures[1]!.sig!, 'hex');
    assert.ok(verifyTimestampToken(Buffer.from(tokens[0]!.data, 'base64'), raw, [pkiB.root.cert]).ok, 'first token: the first TSA given');
    assert.ok(verifyTimestampToken(Buffer.from(tokens[1]!.data, 'base64'), raw, [pkiA.root.cert]).ok);
  });

  it('stamps a DSSE signature added with addEnvelopeSignature over its base64-decoded bytes', async () => {
    const envelope = addEnvelopeSignature(
      signEnvelope('text/plain', Buffer.from('x'), [generatePrivateKey('ed25519')]),
      generatePrivateKey('ecdsa'),
    );
    const stamped = await timestampSignatures(envelope, { servers: [tsaA.url] }, { newSignatures: 1 });
    assert.equal(stamped.signatures[0]!.timestamps, undefined);
    const [token] = stamped.signatures[1]!.timestamps!;
    const ok = verifyTimestampToken(Buffer.from(token!.data, 'base64'), timestampedBytes(stamped.signatures[1]!.sig, 'base64'), [
      pkiA.root.cert,
    ]);
    assert.ok(ok.ok);
  });

  it('a failing TSA: an ENVIRONMENT error ending with the consequence, or with optional a warning and the other tokens', async () => {
    const mb = signMetablock(LINK, [generatePrivateKey('ed25519')]);
    assert.deepEqual(await failure(timestampSignatures(mb, { servers: [tsaA.url, down] }, { consequence: 'nothing done' })), {
      code: 'ENVIRONMENT',
      message: `timestamp server ${down}: cannot be reached (ECONNREFUSED); nothing done (--timestamp-optional makes this a warning)`,
    });
    const warnings: string[] = [];
    const stamped = await timestampSignatures(mb, { servers: [down, tsaA.url], optional: true, onWarning: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [
      `timestamp server ${down}: cannot be reached (ECONNREFUSED); the signature goes without its token (--timestamp-optional)`,
    ]);
    assert.equal(stamped.signatures[0]!.timestamps?.length, 1);
  });

  it('refuses newSignatures outside the signatures, and a bad URL, as BAD_USAGE without asking any TSA', async () => {
    const mb = signMetablock(LINK, [generatePrivateKey('ed25519')]);
    assert.equal((await failure(timestampSignatures(mb, { servers: [tsaA.url] }, { newSignatures: 2 }))).code, 'BAD_USAGE');
    assert.equal((await failure(timestampSignatures(mb, { servers: [tsaA.url, 'mailto:tsa@example.org'] }))).code, 'BAD_USAGE');
    assert.equal(await timestampSignatures(mb, { servers: [] }), mb, 'no TSA: the same object');
  });
});

describe('runStep and recordStop with timestamps', () => {
  it('runStep refuses a bad TSA address before running the command, and writes no link when a TSA is down', async () => {
    const cwd = await mkdtemp(join(dir, 'run-'));
    const signer = generatePrivateKey('ed25519');
    const step = { name: 'build', signer, materials: [], products: [], recordStreams: false, cwd, collect: {} };
    const bad = await failure(runStep({ ...step, command: ['sh', '-c', 'touch ran'], timestamps: { servers: ['ftp://tsa/'] } }));
    assert.equal(bad.code, 'BAD_USAGE');
    assert.deepEqual(await readdir(cwd), [], 'the command did not run');
    const downed = await failure(runStep({ ...step, command: ['true'], timestamps: { servers: [down] } }));
    assert.equal(downed.code, 'ENVIRONMENT');
    assert.match(downed.message, /; the command ran, but no link was written \(--timestamp-optional/);
    assert.deepEqual(await readdir(cwd), []);
    const result = await runStep({ ...step, command: ['true'], timestamps: { servers: [tsaA.url] } });
    const loaded = await loadMetadataFile(result.path);
    assert.equal(loaded.format === 'metablock' && loaded.metablock.signatures[0]!.timestamps?.length, 1);
  });

  it('recordStop keeps the preliminary link when a TSA is down, and stamps the final link when it is up', async () => {
    const cwd = await mkdtemp(join(dir, 'record-'));
    await writeFile(join(cwd, 'a'), 'a');
    const signer = generatePrivateKey('ecdsa');
    await recordStart({ name: 'edit', signer, materials: ['a'], collect: {}, cwd });
    const stop = { name: 'edit', signer, products: ['a'], collect: {}, cwd, format: 'dsse' as const };
    const downed = await failure(recordStop({ ...stop, timestamps: { servers: [down] } }));
    assert.match(downed.message, /no link written, the preliminary link is kept/);
    assert.deepEqual(await readdir(cwd), ['.edit.' + signer.keyid.slice(0, 8) + '.link-unfinished', 'a'].sort());
    const path = await recordStop({ ...stop, timestamps: { servers: [tsaA.url, tsaB.url] } });
    const loaded = await loadMetadataFile(path);
    assert.equal(loaded.format === 'dsse' && loaded.envelope.signatures[0]!.timestamps?.length, 2);
  });
});
