/**
 * Attestations signed with certificates (X509-SVIDs): when an expected predicate names no functionaries,
 * a step's SPIFFE functionaries (its cert_constraints) sign its attestations as they sign its links, and
 * rules see the signer's SPIFFE ID.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyDict } from '../../../src/crypto/key-dict.js';
import { signEnvelope } from '../../../src/crypto/dsse.js';
import { signMetablock } from '../../../src/intoto/models/metablock.js';
import type { Layout } from '../../../src/intoto/models/types.js';
import { formatReport, verify, type VerificationReport } from '../../../src/intoto/verify/index.js';
import { caEntry, certSigner, makeCert, makeRoot, T0, uriConstraint, type TestCert } from '../../helpers/pki.js';
import { artifacts, layout, link, sign, step, testKey } from './fixtures.js';

const BUILDER = 'spiffe://corp.example/ci/builder';
const PROV = 'https://slsa.dev/provenance/v1';
const PRODUCT = artifacts({ hello: 'hello\n' });
const owner = () => testKey(30);

let root: TestCert;
let builder: TestCert;
let intruder: TestCert;

before(async () => {
  root = await makeRoot('corp');
  builder = await makeCert({ subject: 'O=corp', issuer: root, uris: [BUILDER] });
  intruder = await makeCert({ subject: 'O=corp', issuer: root, uris: ['spiffe://corp.example/ci/intruder'] });
});

function certLayout(): Layout {
  const build = {
    ...step({ name: 'build', keys: [], products: ['CREATE hello', 'DISALLOW *'] }),
    cert_constraints: [uriConstraint(BUILDER, [caEntry(root).keyid])],
  };
  build.expected_predicates = [
    {
      predicate_type: PROV,
      expected_attributes: [{ rule: `signer.spiffeId == '${BUILDER}' && predicate.runDetails.builder.id == signer.spiffeId` }],
    },
  ];
  const l = layout([build], []);
  l.rootcas = { [caEntry(root).keyid]: caEntry(root).dict as unknown as KeyDict };
  return l;
}

function provenance(by: TestCert, builderId = BUILDER): object {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'hello', digest: PRODUCT.hello }],
    predicateType: PROV,
    predicate: { buildDefinition: { buildType: 'https://evident.dev/run/v1' }, runDetails: { builder: { id: builderId } } },
  };
  return signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [certSigner(by)]);
}

async function run(attestations: Record<string, object>): Promise<VerificationReport> {
  const s = certSigner(builder);
  const links = { [`build.${s.keyid.slice(0, 8)}.link`]: signMetablock(link('build', { products: PRODUCT }), [s]), ...attestations };
  return verify({ layout: sign(certLayout(), [owner()]), layoutKeys: [owner().publicKey], links, runInspections: false, verifyTime: T0 });
}

test('attestations by certificate: the SPIFFE functionary of the step signs its provenance; rules see its SPIFFE ID', async () => {
  const report = await run({ 'build.provenance.json': provenance(builder) });
  assert.equal(report.ok, true, formatReport(report));
  const found = report.checks.find((c) => c.id === 'attestations')!;
  assert.match(found.message, new RegExp(`build\\.provenance\\.json by ${BUILDER}\\)$`));
  assert.deepEqual((found.details!.attestations as { spiffeId: string }[])[0]!.spiffeId, BUILDER);
});

test('attestations by certificate: another identity of the same CA is not a functionary; a wrong builder id fails the rule', async () => {
  const intruded = await run({ 'build.provenance.json': provenance(intruder) });
  assert.equal(intruded.ok, false);
  const missing = intruded.checks.find((c) => c.id === 'attestations')!;
  assert.match(missing.message, new RegExp(`^missing attestation: no ${PROV} signed by ${BUILDER} about build's`));
  assert.match(
    missing.message,
    /is signed by [0-9a-f]{8}, not by a functionary of build for it \(spiffe:\/\/corp\.example\/ci\/builder\); the certificate of spiffe:\/\/corp\.example\/ci\/intruder does not satisfy build's constraints/,
  );

  const wrongId = await run({ 'build.provenance.json': provenance(builder, 'https://github.com/evil') });
  assert.equal(wrongId.ok, false);
  assert.match(
    wrongId.checks.find((c) => c.id === 'attestations' && !c.ok)!.message,
    /is false .*signer\.spiffeId = "spiffe:\/\/corp\.example\/ci\/builder"; predicate\.runDetails\.builder\.id = "https:\/\/github\.com\/evil"/,
  );
});

test('attestations by certificate: an intermediate given to verify (-i) completes the chain of an attestation, as of a link', async () => {
  const { makeIntermediate } = await import('../../helpers/pki.js');
  const inter = await makeIntermediate(root, 'corp ci');
  const leaf = await makeCert({ subject: 'O=corp', issuer: inter, uris: [BUILDER], carried: [inter] });
  // the link carries the intermediate; the provenance does not, so only -i completes its chain
  const bare: TestCert = { ...leaf, chainPem: leaf.pem };
  const s = certSigner(leaf);
  const verifyWith = (intermediateCerts: string[]) =>
    verify({
      layout: sign(certLayout(), [owner()]),
      layoutKeys: [owner().publicKey],
      links: {
        [`build.${s.keyid.slice(0, 8)}.link`]: signMetablock(link('build', { products: PRODUCT }), [s]),
        'build.provenance.json': provenance(bare),
      },
      runInspections: false,
      verifyTime: T0,
      intermediateCerts,
    });
  const without = await verifyWith([]);
  assert.equal(without.ok, false);
  assert.match(without.checks.find((c) => c.id === 'attestations')!.message, /does not chain to a trusted root/);
  const given = await verifyWith([inter.pem]);
  assert.equal(given.ok, true, formatReport(given));
});
