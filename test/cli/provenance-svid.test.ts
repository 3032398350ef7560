/**
 * `evident run --spiffe-socket … --provenance`: the provenance is signed by the link's SVID (its chain in the
 * DSSE signature) and names the SVID's SPIFFE ID as builder.id; a VSA signed by an SVID names it as verifier.id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envelopePayload, parseEnvelope, verifyEnvelope } from '../../src/crypto/dsse.js';
import { PublicKey } from '../../src/crypto/keys.js';
import { FakeWorkloadApi, x509Response } from '../spiffe/fake-workload-api-server.js';
import { makeCa, makeSvid } from '../helpers/pki.js';
import { runCli } from '../helpers/cli.js';
import { provenanceProblems, statementProblems } from '../attestation/predicate-shapes.js';

let dir: string;
let api: FakeWorkloadApi;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evident-provenance-svid-'));
  api = await FakeWorkloadApi.start(join(dir, 'agent.sock'));
  await writeFile(join(dir, 'hello.c'), 'int main(void) { return 0; }\n');
});
after(async () => {
  await api.stop();
  await rm(dir, { recursive: true, force: true });
});

test('run --spiffe-socket --provenance: builder.id is the SVID, the envelope is signed by it with its chain', async () => {
  const now = new Date();
  const ca = await makeCa('corp.example', now);
  api.setX509(x509Response([{ svid: await makeSvid(ca, '/ci/builder', { now }), bundle: ca.bundle }]));
  const r = await runCli(
    ['run', '-n', 'build', '--spiffe-socket', api.address, '--provenance', '-m', 'hello.c', '-p', 'hello', '--', 'cp', 'hello.c', 'hello'],
    { cwd: dir },
  );
  assert.equal(r.code, 0, r.stderr);
  const [file] = (await readdir(dir)).filter((f) => f.endsWith('.provenance.json'));
  assert.ok(file !== undefined, 'a provenance file was written');
  const envelope = parseEnvelope(JSON.parse(await readFile(join(dir, file), 'utf8')), file);
  const cert = envelope.signatures[0]!.cert!;
  const leaf = PublicKey.fromKeyObject(new X509Certificate(cert).publicKey);
  assert.equal(verifyEnvelope(envelope, [leaf]).length, 1, 'signed by the SVID');
  assert.equal(file, `build.${leaf.keyid.slice(0, 8)}.provenance.json`, 'named as the link is');
  assert.ok((await readdir(dir)).includes(`build.${leaf.keyid.slice(0, 8)}.link`));
  const statement = JSON.parse(envelopePayload(envelope).toString('utf8')) as { predicate: { runDetails: { builder: { id: string } } } };
  assert.deepEqual(statementProblems(statement, 'https://slsa.dev/provenance/v1'), []);
  assert.deepEqual(provenanceProblems(statement.predicate), []);
  assert.equal(statement.predicate.runDetails.builder.id, 'spiffe://corp.example/ci/builder');
});
