/**
 * The statements evident makes, validated against the JSON Schemas of their predicates (predicate-shapes.ts:
 * CycloneDX's official schema, our transcriptions of the in-toto and SLSA specs): SLSA Provenance v1, the
 * vulns predicate v0.2, a CycloneDX BOM and the SLSA VSA v1, each as its builder writes it; and the schemas
 * shown able to fail on what the specs forbid, so a pass means something.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cyclonedxStatement } from '../../src/attestation/cyclonedx.js';
import { provenanceStatement } from '../../src/attestation/provenance.js';
import { fileResourceUri, vsaStatement } from '../../src/attestation/vsa.js';
import { readImageLayout } from '../../src/oci/layout-reader.js';
import type { ScanReport } from '../../src/scan/report.js';
import { vulnsStatement } from '../../src/scan/vulns-attestation.js';
import { imageSbom } from '../../src/sbom/cyclonedx.js';
import { file, layoutOf } from '../oci/fixtures.js';
import { cyclonedxProblems, provenanceProblems, statementProblems, vsaProblems, vulnsProblems } from './predicate-shapes.js';

const HEX = 'a1'.repeat(32);
const T0 = new Date('2026-03-01T12:00:00.000Z');

const provenance = () =>
  provenanceStatement({
    step: 'build',
    command: ['make', 'app.tar'],
    materials: { 'src/main.c': { sha256: HEX } },
    products: { 'app.tar': { sha256: HEX }, 'notes.txt': { sha512: 'b2'.repeat(64) } },
    builderId: 'spiffe://demo.evident/ci/builder',
    startedOn: T0,
    finishedOn: new Date(T0.getTime() + 5000),
    workdir: '/work/build',
    evidentVersion: '0.1.0',
  });

const vsa = (passed: boolean) =>
  vsaStatement({
    verifierId: 'urn:evident:keyid:' + HEX,
    verifierVersion: '0.1.0',
    timeVerified: T0,
    subject: [{ name: 'dist/lib.tar', digest: { sha256: HEX } }],
    resourceUri: fileResourceUri('dist/lib.tar'),
    policy: { uri: fileResourceUri('root.layout'), sha256: HEX },
    inputAttestations: [{ name: 'build.0123abcd.link', sha256: HEX }],
    passed,
  });

function report(): ScanReport {
  return {
    scanner: { name: 'evident-scan', version: '0.1.0' },
    subject: { name: 'hello-image.tar', digest: { sha256: HEX } },
    sbom: { sha256: HEX },
    advisories: { count: 1, sha256: HEX },
    summary: { critical: 1, high: 0, medium: 0, low: 0, unknown: 0 } as ScanReport['summary'],
    findings: [
      {
        advisory: 'EVD-2022-0001',
        package: 'zlib',
        version: '1.2.11',
        purl: 'pkg:apk/alpine/zlib@1.2.11',
        severity: 'critical',
        cvssScore: 9.8,
        aliases: ['CVE-2022-37434'],
        fixedIn: '1.2.12',
        summary: 'heap overflow',
      } as ScanReport['findings'][number],
    ],
    warnings: [],
  };
}

test('schemas: SLSA Provenance v1 as run --provenance writes it', () => {
  const s = provenance();
  assert.deepEqual(statementProblems(s, 'https://slsa.dev/provenance/v1'), []);
  assert.deepEqual(provenanceProblems(s.predicate), []);
});

test('schemas: the vulns predicate v0.2 as scan run --attest writes it, an advisory time with an offset written in UTC', () => {
  const s = vulnsStatement(report(), [{ name: 'hello-image.tar', digest: { sha256: HEX } }], {
    startedOn: T0,
    finishedOn: new Date(T0.getTime() + 1000),
    feedUpdated: '2026-02-01T13:00:00+01:00',
  });
  assert.deepEqual(statementProblems(s, 'https://in-toto.io/attestation/vulns/v0.2'), []);
  assert.deepEqual(vulnsProblems(s.predicate), []);
  assert.equal(s.predicate.scanner.db!.lastUpdate, '2026-02-01T12:00:00.000Z');
});

test('schemas: a CycloneDX BOM of an image (the official 1.5 schema, strictly) and its statement', async () => {
  const bom = imageSbom(readImageLayout(layoutOf([file('bin/tool', 'x', 0o755), file('etc/conf', 'c')])));
  assert.deepEqual(await cyclonedxProblems(bom), []);
  const s = cyclonedxStatement(bom, [{ name: 'hello-image.tar', digest: { sha256: HEX } }]);
  assert.deepEqual(statementProblems(s, 'https://cyclonedx.org/bom'), []);
});

test('schemas: the SLSA VSA v1 as verify --vsa writes it, PASSED and FAILED; files named as generic purls', () => {
  for (const passed of [true, false]) {
    const s = vsa(passed);
    assert.deepEqual(statementProblems(s, 'https://slsa.dev/verification_summary/v1'), []);
    assert.deepEqual(vsaProblems(s.predicate), []);
  }
  assert.equal(fileResourceUri('dist/lib.tar'), 'pkg:generic/dist/lib.tar');
  assert.equal(fileResourceUri('./a b#1.tar'), 'pkg:generic/a%20b%231.tar');
  assert.equal(fileResourceUri('out\\win.tar'), 'pkg:generic/out/win.tar');
});

test('schemas: each fails on what its spec forbids', async () => {
  const s = provenance() as unknown as Record<string, unknown>;
  const broken = (change: (x: Record<string, unknown>) => void) => {
    const copy = structuredClone(s);
    change(copy);
    return copy;
  };
  assert.notDeepEqual(
    statementProblems(
      broken((x) => (x.subject = [])),
      'https://slsa.dev/provenance/v1',
    ),
    [],
  );
  assert.notDeepEqual(
    statementProblems(
      broken((x) => (x.subject = [{ name: 'a' }])),
      'https://slsa.dev/provenance/v1',
    ),
    [],
  );
  assert.notDeepEqual(
    statementProblems(
      broken((x) => (x.subject = [{ name: 'a', digest: { sha256: HEX.toUpperCase() } }])),
      'https://slsa.dev/provenance/v1',
    ),
    [],
  );
  assert.notDeepEqual(
    statementProblems(
      broken((x) => (x._type = 'https://in-toto.io/Statement/v0.1')),
      'https://slsa.dev/provenance/v1',
    ),
    [],
  );
  assert.notDeepEqual(statementProblems(s, 'https://slsa.dev/provenance/v0.2'), []);

  const p = provenance().predicate as { runDetails: { builder: { id?: string }; metadata: { startedOn: string } } };
  assert.notDeepEqual(provenanceProblems({ ...p, runDetails: { builder: {} } }), []);
  assert.notDeepEqual(provenanceProblems({ ...p, runDetails: { ...p.runDetails, builder: { id: 'builder-1' } } }), []);
  assert.notDeepEqual(
    provenanceProblems({ ...p, runDetails: { ...p.runDetails, metadata: { startedOn: '2026-03-01T13:00:00+01:00' } } }),
    [],
  );
  assert.notDeepEqual(provenanceProblems({ buildDefinition: { buildType: 'https://evident.dev/run/v1' }, runDetails: p.runDetails }), []);

  const v = vsa(true).predicate as Record<string, unknown>;
  assert.deepEqual(vsaProblems({ ...v, timeVerified: undefined }), [], 'timeVerified is optional since 1.1');
  assert.notDeepEqual(vsaProblems({ ...v, resourceUri: 'lib.tar' }), [], 'a relative path is no ResourceURI');
  assert.notDeepEqual(vsaProblems({ ...v, policy: { digest: { sha256: HEX } } }), [], 'the policy needs a uri');
  assert.notDeepEqual(vsaProblems({ ...v, verificationResult: 'FAILED' }), [], 'FAILED with a level');
  assert.notDeepEqual(vsaProblems({ ...v, verifiedLevels: ['SLSA_BUILD_LEVEL_2', 'SLSA_BUILD_LEVEL_3'] }), [], 'two levels of a track');
  assert.notDeepEqual(vsaProblems({ ...v, verifiedLevels: ['SLSA_CUSTOM'] }), [], 'custom values must not start with SLSA_');
  assert.notDeepEqual(vsaProblems({ ...v, inputAttestations: [{ name: 'x.link' }] }), [], 'an input attestation needs its digest');

  const vulns = {
    scanner: { uri: 'pkg:generic/evident-scan@0.1.0', result: [] },
    metadata: { scanStartedOn: T0.toISOString(), scanFinishedOn: T0.toISOString() },
  };
  assert.deepEqual(vulnsProblems(vulns), []);
  assert.notDeepEqual(
    vulnsProblems({ ...vulns, scanner: { ...vulns.scanner, result: [{ id: 'CVE-1' }] } }),
    [],
    'a finding needs its severity',
  );
  assert.notDeepEqual(vulnsProblems({ ...vulns, scanner: { ...vulns.scanner, db: { version: '1' } } }), [], 'a db needs its lastUpdate');
  assert.notDeepEqual(vulnsProblems({ scanner: vulns.scanner }), [], 'the scan times are required');

  const bom = imageSbom(readImageLayout(layoutOf([file('bin/tool', 'x', 0o755)])));
  assert.notDeepEqual(await cyclonedxProblems({ ...bom, components: [{ type: 'library', name: 'x', colour: 'blue' }] }), []);
  assert.notDeepEqual(await cyclonedxProblems({ ...bom, components: [{ type: 'gadget', name: 'x' }] }), []);
  assert.notDeepEqual(await cyclonedxProblems({ ...bom, specVersion: '0.9' }), []);
});
