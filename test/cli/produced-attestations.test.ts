/**
 * The attestations evident writes (docs/policy.md, "Attestations evident writes"): `run --provenance`
 * (SLSA Provenance v1), `scan run --attest` (in-toto vulns v0.2), `sbom generate --attest` (CycloneDX) and
 * `verify --vsa` (SLSA VSA v1), each checked against its predicate's published shape, and the layout's CEL
 * rules over them end to end: the honest image passes, the one with a critical advisory fails with a message
 * naming the package, the version and the advisory. The build step's command is the built evident (dist/).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPublicKey } from '../../src/crypto/key-files.js';
import { verifyEnvelope, parseEnvelope, envelopePayload } from '../../src/crypto/dsse.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { ensureBuilt, REPO_ROOT as REPO } from '../helpers/evident-process.js';
import { tempDir, type TempDir } from '../intoto/verify/fixtures.js';
import { cyclonedxProblems, provenanceProblems, statementProblems, vsaProblems, vulnsProblems } from '../attestation/predicate-shapes.js';

const EXAMPLE = join(REPO, 'examples', 'hello-world');
const BIN = join(REPO, 'bin', 'evident');
const VULNS = 'https://in-toto.io/attestation/vulns/v0.2';
const PROVENANCE = 'https://slsa.dev/provenance/v1';

let tmp: TempDir;
let builderKeyid = '';

/** The layout: the build's provenance names the builder's key; the scanner's vulns attestation has no critical finding. */
const spec = (builder: string) => `expires: 30d
keys: {builder: builder.pub, scanner: scanner.pub}
steps:
  - name: build
    functionaries: [builder]
    products: [CREATE hello-image.tar, CREATE sbom.cdx.json, DISALLOW *]
    expected_predicates:
      - predicate_type: ${PROVENANCE}
        expected_attributes:
          - "predicate.runDetails.builder.id == 'urn:evident:keyid:${builder}'"
          - "subject.exists(s, s.digest.sha256 == products['hello-image.tar'].sha256)"
      - predicate_type: ${VULNS}
        functionaries: [scanner]
        expected_attributes:
          - "predicate.scanner.result.all(f, !f.severity.exists(s, s.method == 'osv' && s.score == 'critical'))"
`;

/** The statement inside a DSSE envelope file, after checking that `key` signed it. */
async function statementOf(file: string, keyFile: string): Promise<Record<string, unknown>> {
  const envelope = parseEnvelope(JSON.parse(await readFile(file, 'utf8')), file);
  const key = await loadPublicKey(keyFile);
  assert.equal(verifyEnvelope(envelope, [key]).length, 1, `${file} is signed by ${keyFile}`);
  assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
  return JSON.parse(envelopePayload(envelope).toString('utf8')) as Record<string, unknown>;
}

/** A chain folder: the example's inputs (zlib `version`), keys, the signed layout, the build run with --provenance and the scan attested. */
async function chain(name: string, zlib: string): Promise<string> {
  const dir = join(tmp.dir, name);
  for (const p of ['image.yaml', 'vendor', 'advisories']) await cp(join(EXAMPLE, p), join(dir, p), { recursive: true });
  await writeFile(join(dir, 'hello'), '\x7fELF hello');
  const yaml = await readFile(join(dir, 'image.yaml'), 'utf8');
  await writeFile(join(dir, 'image.yaml'), yaml.replaceAll('1.3.1', zlib));
  const cli = (argv: string[]): Promise<CliResult> => runCli(argv, { cwd: dir });
  for (const k of ['owner', 'builder', 'scanner']) await cp(join(tmp.dir, 'keys', k), join(dir, k));
  for (const k of ['owner', 'builder', 'scanner']) await cp(join(tmp.dir, 'keys', `${k}.pub`), join(dir, `${k}.pub`));
  await writeFile(join(dir, 'layout.yaml'), spec(builderKeyid));
  const created = await cli(['layout', 'create', 'layout.yaml', '-k', 'owner', '-o', 'root.layout']);
  assert.equal(created.code, 0, created.stderr);
  const build = [process.execPath, BIN, 'image', 'build', '-c', 'image.yaml', '-o', 'hello-image.tar', '--sbom', 'sbom.cdx.json'];
  const ran = await cli(['run', '-n', 'build', '-k', 'builder', '--provenance', '-q', '-m', 'image.yaml', 'vendor', 'hello']);
  assert.equal(ran.code, 2, 'a run needs a command or -x');
  const run = await cli([
    'run',
    '-n',
    'build',
    '-k',
    'builder',
    '--provenance',
    '-m',
    'image.yaml',
    'vendor',
    'hello',
    '-p',
    'hello-image.tar',
    'sbom.cdx.json',
    '--',
    ...build,
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`wrote build\\.${builderKeyid.slice(0, 8)}\\.provenance\\.json`));
  const scan = await cli([
    'scan',
    'run',
    'sbom.cdx.json',
    '--advisories',
    'advisories',
    '--attest',
    '-k',
    'scanner',
    '--subject',
    'hello-image.tar',
    '-o',
    'scan.vulns.json',
  ]);
  assert.equal(scan.code, 0, scan.stderr);
  return dir;
}

let honest = '';
let attacked = '';

before(async () => {
  tmp = await tempDir('evident-produced-');
  // the build step runs dist/'s evident
  ensureBuilt();
  const keys = join(tmp.dir, 'keys');
  await mkdir(keys);
  for (const k of ['owner', 'builder', 'scanner']) assert.equal((await runCli(['keygen', k], { cwd: keys })).code, 0);
  builderKeyid = (await loadPublicKey(join(keys, 'builder.pub'))).keyid;
  honest = await chain('honest', '1.3.1');
  attacked = await chain('attacked', '1.2.11');
});

after(async () => {
  await tmp?.cleanup();
});

test('run --provenance: SLSA Provenance v1 beside the link, signed by the link key, products as subjects, materials as dependencies', async () => {
  const file = join(honest, `build.${builderKeyid.slice(0, 8)}.provenance.json`);
  const s = await statementOf(file, join(honest, 'builder.pub'));
  assert.deepEqual(statementProblems(s, PROVENANCE), []);
  assert.deepEqual(provenanceProblems(s.predicate), []);
  const p = s.predicate as {
    buildDefinition: {
      buildType: string;
      externalParameters: { step: string; command: string[] };
      internalParameters: Record<string, string>;
      resolvedDependencies: { name: string }[];
    };
    runDetails: { builder: { id: string }; metadata: { startedOn: string; finishedOn: string; invocationId: string } };
  };
  assert.equal(p.buildDefinition.buildType, 'https://evident.dev/run/v1');
  assert.equal(p.buildDefinition.externalParameters.step, 'build');
  assert.deepEqual(p.buildDefinition.externalParameters.command.slice(2, 4), ['image', 'build']);
  assert.deepEqual(Object.keys(p.buildDefinition.internalParameters).sort(), ['arch', 'evident', 'node', 'platform', 'workdir']);
  assert.ok(p.buildDefinition.resolvedDependencies.some((d) => d.name === 'image.yaml'));
  assert.equal(p.runDetails.builder.id, `urn:evident:keyid:${builderKeyid}`);
  assert.ok(Date.parse(p.runDetails.metadata.startedOn) <= Date.parse(p.runDetails.metadata.finishedOn));
  assert.deepEqual((s.subject as { name: string }[]).map((x) => x.name).sort(), ['hello-image.tar', 'sbom.cdx.json']);
  // a broken one is caught by the same checks: they can fail
  assert.notDeepEqual(provenanceProblems({ ...p, runDetails: { builder: {} } }), []);
  assert.notDeepEqual(statementProblems({ ...s, subject: [] }, PROVENANCE), []);
});

test('scan run --attest: an in-toto vulns v0.2 attestation, signed by the scanner, about the scanned file', async () => {
  const s = await statementOf(join(attacked, 'scan.vulns.json'), join(attacked, 'scanner.pub'));
  assert.deepEqual(statementProblems(s, VULNS), []);
  assert.deepEqual(vulnsProblems(s.predicate), []);
  const result = (s.predicate as { scanner: { result: { id: string; severity: unknown[]; annotations: Record<string, unknown>[] }[] } })
    .scanner.result;
  assert.deepEqual(
    result.map((r) => [r.id, r.severity, r.annotations[0]!.package, r.annotations[0]!.version]),
    [
      [
        'EVD-2022-0001',
        [
          { method: 'osv', score: 'critical' },
          { method: 'cvss_score', score: '9.8' },
        ],
        'zlib',
        '1.2.11',
      ],
      [
        'EVD-2022-0002',
        [
          { method: 'osv', score: 'high' },
          { method: 'cvss_score', score: '7.5' },
        ],
        'zlib',
        '1.2.11',
      ],
    ],
  );
  assert.notDeepEqual(vulnsProblems({ scanner: { uri: 'x', result: [{ severity: [] }] } }), []);
  // no signer, or a signer without --attest: exit 2, nothing scanned
  const noKey = await runCli(['scan', 'run', 'sbom.cdx.json', '--advisories', 'advisories', '--attest'], { cwd: attacked });
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /a signing identity is needed/);
  const keyOnly = await runCli(['scan', 'run', 'sbom.cdx.json', '--advisories', 'advisories', '-k', 'scanner'], { cwd: attacked });
  assert.equal(keyOnly.code, 2);
  assert.match(keyOnly.stderr, /are for --attest/);
});

test('sbom generate --attest: the CycloneDX BOM in a signed Statement about the image tarball and its manifest', async () => {
  const r = await runCli(['sbom', 'generate', 'hello-image.tar', '--attest', '-k', 'builder', '-o', 'sbom.att.json'], { cwd: honest });
  assert.equal(r.code, 0, r.stderr);
  const s = await statementOf(join(honest, 'sbom.att.json'), join(honest, 'builder.pub'));
  assert.deepEqual(statementProblems(s, 'https://cyclonedx.org/bom'), []);
  assert.deepEqual(await cyclonedxProblems(s.predicate), []);
  const bom = JSON.parse(await readFile(join(honest, 'sbom.cdx.json'), 'utf8')) as unknown;
  assert.deepEqual(s.predicate, bom, 'the predicate is the very SBOM the build wrote');
  assert.equal((s.subject as { name: string }[])[0]!.name, 'hello-image.tar');
  assert.equal((s.subject as unknown[]).length, 2);
  const keyOnly = await runCli(['sbom', 'generate', 'hello-image.tar', '-k', 'builder'], { cwd: honest });
  assert.equal(keyOnly.code, 2);
  assert.equal(keyOnly.stderr, 'evident: sbom generate: -k, --spiffe-socket and --timestamp-server are for --attest\n');
});

test('the layout rules pass over the honest chain, and verify --vsa writes a signed PASSED summary', async () => {
  const v = await runCli(
    ['verify', '-l', 'root.layout', '-k', 'owner.pub', '--product', 'hello-image.tar', '--vsa', 'vsa.json', '--vsa-key', 'owner'],
    { cwd: honest },
  );
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, new RegExp(`✓ build: 1 attestation of ${PROVENANCE.replaceAll('/', '\\/').replaceAll('.', '\\.')}`));
  assert.match(v.stdout, /✓ build: 1 attestation of https:\/\/in-toto\.io\/attestation\/vulns\/v0\.2/);
  const s = await statementOf(join(honest, 'vsa.json'), join(honest, 'owner.pub'));
  assert.deepEqual(statementProblems(s, 'https://slsa.dev/verification_summary/v1'), []);
  assert.deepEqual(vsaProblems(s.predicate), []);
  const p = s.predicate as {
    verificationResult: string;
    verifiedLevels: string[];
    policy: { uri: string; digest: { sha256: string } };
    inputAttestations: { name: string }[];
    resourceUri: string;
  };
  assert.equal(p.verificationResult, 'PASSED');
  assert.deepEqual(p.verifiedLevels, ['EVIDENT_LAYOUT_VERIFIED']);
  assert.equal(p.resourceUri, 'pkg:generic/hello-image.tar');
  assert.equal(p.policy.uri, 'pkg:generic/root.layout');
  const { createHash } = await import('node:crypto');
  assert.equal(
    p.policy.digest.sha256,
    createHash('sha256')
      .update(await readFile(join(honest, 'root.layout')))
      .digest('hex'),
  );
  const uris = p.inputAttestations.map((a) => a.name);
  assert.ok(uris.includes(`build.${builderKeyid.slice(0, 8)}.link`) && uris.includes('scan.vulns.json'), uris.join(', '));
  assert.ok(!uris.some((u) => u.startsWith('advisories/') || u === 'sbom.cdx.json'), `only evidence: ${uris.join(', ')}`);
  const image = createHash('sha256')
    .update(await readFile(join(honest, 'hello-image.tar')))
    .digest('hex');
  assert.deepEqual(s.subject, [{ name: 'hello-image.tar', digest: { sha256: image } }]);
  assert.notDeepEqual(vsaProblems({ ...p, verificationResult: 'FAILED' }), [], 'FAILED with a level is refused');
  // where the product goes, as the verifier says it
  const named = await runCli(
    [
      'verify',
      '-l',
      'root.layout',
      '-k',
      'owner.pub',
      '--product',
      'hello-image.tar',
      '--vsa',
      'vsa-oci.json',
      '--vsa-key',
      'owner',
      '--vsa-resource-uri',
      'oci://registry.example/hello@sha256:' + image,
    ],
    { cwd: honest },
  );
  assert.equal(named.code, 0, named.stderr);
  const namedStatement = await statementOf(join(honest, 'vsa-oci.json'), join(honest, 'owner.pub'));
  assert.equal((namedStatement.predicate as { resourceUri: string }).resourceUri, `oci://registry.example/hello@sha256:${image}`);
  assert.deepEqual(vsaProblems(namedStatement.predicate), []);
});

test('a critical advisory fails the vulns rule, naming the package, version and advisory; the VSA says FAILED', async (t) => {
  const v = await runCli(
    ['verify', '-l', 'root.layout', '-k', 'owner.pub', '--product', 'hello-image.tar', '--vsa', 'vsa.json', '--vsa-key', 'owner'],
    { cwd: attacked },
  );
  assert.equal(v.code, 1, v.stdout + v.stderr);
  const failed = v.stdout.split('\n').filter((l) => l.startsWith('✗'));
  assert.equal(failed.length >= 1, true, v.stdout);
  const line = failed.find((l) => l.includes(VULNS)) ?? '';
  t.diagnostic(line);
  for (const part of ['zlib', '1.2.11', 'EVD-2022-0001', 'scan.vulns.json']) assert.ok(line.includes(part), `${part} in: ${line}`);
  const s = await statementOf(join(attacked, 'vsa.json'), join(attacked, 'owner.pub'));
  assert.deepEqual(vsaProblems(s.predicate), []);
  assert.equal((s.predicate as { verificationResult: string }).verificationResult, 'FAILED');
  assert.deepEqual((s.predicate as { verifiedLevels: string[] }).verifiedLevels, ['FAILED']);
});

test('verify --vsa: bad usage is refused before verifying (exit 2)', async () => {
  const noSigner = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--product', 'hello-image.tar', '--vsa', 'v.json'], {
    cwd: honest,
  });
  assert.equal(noSigner.code, 2);
  assert.match(noSigner.stderr, /--vsa needs a signer/);
  const noProduct = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--vsa', 'v.json', '--vsa-key', 'owner'], {
    cwd: honest,
  });
  assert.equal(noProduct.code, 2);
  assert.match(noProduct.stderr, /--vsa is about a product/);
  const keyOnly = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--vsa-key', 'owner'], { cwd: honest });
  assert.equal(keyOnly.code, 2);
  const relative = await runCli(
    [
      'verify',
      '-l',
      'root.layout',
      '-k',
      'owner.pub',
      '--product',
      'hello-image.tar',
      '--vsa',
      'v.json',
      '--vsa-key',
      'owner',
      '--vsa-resource-uri',
      'hello-image.tar',
    ],
    { cwd: honest },
  );
  assert.equal(relative.code, 2);
  assert.match(
    relative.stderr,
    /--vsa-resource-uri must be a URI with a lowercase scheme \(pkg:generic\/lib\.tar, oci:\/\/registry\/app\), not 'hello-image\.tar'/,
  );
  const uriOnly = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--vsa-resource-uri', 'oci://r/app'], { cwd: honest });
  assert.equal(uriOnly.code, 2);
  assert.match(uriOnly.stderr, /--vsa-resource-uri is for the --vsa FILE/);
  assert.ok(!(await readdir(honest)).includes('v.json'));
});
