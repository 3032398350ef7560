/**
 * Attestation rules (docs/policy.md): a step's `expected_predicates` over DSSE-signed in-toto Statements
 * beside its links, with real keys and signatures; every outcome of a rule, and which attestations count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signEnvelope } from '../../../src/crypto/dsse.js';
import type { PrivateKey } from '../../../src/crypto/keys.js';
import type { ExpectedPredicate, Inspection, Layout } from '../../../src/intoto/models/types.js';
import { formatReport, verify, type Check, type VerificationReport } from '../../../src/intoto/verify/index.js';
import { artifacts, inspection, layout, link, linkName, put, sign, step, tempDir, testKey } from './fixtures.js';

const VULNS = 'https://in-toto.io/attestation/vulns';
const owner = () => testKey(20);
const builder = () => testKey(21);
const scanner = () => testKey(22);
const mallory = () => testKey(23);

const PRODUCT = { 'app.tar': 'the application\n' };

/** A finding as the vulns predicate (v0.1) lists it. */
function finding(id: string, severity: string, pkg = 'lodash', version = '4.17.20') {
  return { id, severity: [{ method: 'nvd', score: severity }], package: { name: pkg, version }, annotations: { severity } };
}

function vulns(findings: unknown[], scanner = 'pkg:github/aquasecurity/trivy@0.50.0') {
  return { scanner: { uri: scanner, version: '0.50.0', result: findings }, metadata: { scanStartedOn: '2026-03-01T12:00:00Z' } };
}

/** A DSSE envelope of an in-toto Statement v1 about `subjects`, signed by `keys`. */
function attestation(predicateType: string, predicate: unknown, keys: PrivateKey[], subjects: Record<string, string> = PRODUCT): object {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: Object.entries(artifacts(subjects)).map(([name, digest]) => ({ name, digest })),
    predicateType,
    predicate,
  };
  return signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), keys);
}

/** A one-step chain (build makes app.tar) whose step expects `predicates`; `files` are written beside the link. */
async function run(
  predicates: ExpectedPredicate[] | undefined,
  files: Record<string, object>,
  options: { inspect?: Inspection[]; workFiles?: Record<string, string> } = {},
): Promise<VerificationReport> {
  const tmp = await tempDir('evident-attestations-');
  try {
    const build = step({ name: 'build', keys: [builder()], products: ['CREATE app.tar', 'DISALLOW *'] });
    if (predicates !== undefined) build.expected_predicates = predicates;
    const l: Layout = layout([build], [builder(), scanner(), mallory()], { inspect: options.inspect ?? [] });
    await put(tmp.dir, 'root.layout', sign(l, [owner()]));
    await put(tmp.dir, linkName('build', builder()), sign(link('build', { products: artifacts(PRODUCT) }), [builder()]));
    for (const [name, value] of Object.entries(files)) await put(tmp.dir, name, JSON.stringify(value));
    for (const [name, text] of Object.entries(options.workFiles ?? {})) await put(tmp.dir, name, text);
    return await verify({ layout: sign(l, [owner()]), layoutKeys: [owner().publicKey], linkDir: tmp.dir, workDir: tmp.dir });
  } finally {
    await tmp.cleanup();
  }
}

const attestationChecks = (r: VerificationReport): Check[] => r.checks.filter((c) => c.id === 'attestations');
const scanned = (predicate: unknown = vulns([finding('CVE-2024-1', 'LOW')]), keys = [scanner()]) => ({
  'scan.vulns.json': attestation(VULNS, predicate, keys),
});
const noCritical = (extra: Partial<ExpectedPredicate> = {}): ExpectedPredicate => ({
  predicate_type: VULNS,
  expected_attributes: [{ rule: "predicate.scanner.result.all(f, f.annotations.severity != 'CRITICAL')" }],
  functionaries: [scanner().keyid],
  ...extra,
});

test('attestations: a rule that holds passes, saying which attestation counted and by whom', async () => {
  const report = await run([noCritical()], scanned());
  assert.equal(report.ok, true, formatReport(report));
  const [found, rule] = attestationChecks(report);
  assert.equal(found!.step, 'build');
  assert.match(
    found!.message,
    new RegExp(`^1 attestation of ${VULNS} by a functionary \\(.*scan\\.vulns\\.json by ${scanner().keyid.slice(0, 8)}\\)$`),
  );
  assert.equal(rule!.ok, true);
  assert.equal(rule!.message, `${VULNS}: rule "predicate.scanner.result.all(f, f.annotations.severity != 'CRITICAL')" holds`);
});

test('attestations: a rule that does not hold fails, naming the step, predicate, rule, file and the finding that failed it', async () => {
  const predicate = vulns([finding('CVE-2024-1', 'LOW'), finding('GHSA-35jh-r3h4-6jhm', 'CRITICAL', 'lodash', '4.17.20')]);
  const report = await run([noCritical()], scanned(predicate));
  assert.equal(report.ok, false);
  const bad = attestationChecks(report).find((c) => !c.ok)!;
  assert.equal(bad.step, 'build');
  assert.match(
    bad.message,
    new RegExp(`^${VULNS}: rule "predicate\\.scanner\\.result\\.all\\(f, f\\.annotations\\.severity != 'CRITICAL'\\)" is false`),
  );
  assert.match(bad.message, /scan\.vulns\.json, signed by [0-9a-f]{8}/);
  assert.match(bad.message, /predicate\.scanner\.result has 2 entries/);
  assert.match(
    bad.message,
    /fails at predicate\.scanner\.result\[1\] = \{"id": "GHSA-35jh-r3h4-6jhm", .*"package": \{"name": "lodash", "version": "4\.17\.20"\}/,
  );
  assert.equal(bad.details!.outcome, 'false');
  // the report line is one line
  assert.match(formatReport(report), /^✗ build: https:\/\/in-toto\.io\/attestation\/vulns: rule .* is false .*GHSA-35jh-r3h4-6jhm.*$/m);
});

test('attestations: a field rule that fails shows the value it read', async () => {
  const rule = "predicate.scanner.uri.startsWith('pkg:github/anchore/grype')";
  const report = await run([noCritical({ expected_attributes: [{ rule }] })], scanned());
  const bad = attestationChecks(report).find((c) => !c.ok)!;
  assert.match(bad.message, /is false .*predicate\.scanner\.uri = "pkg:github\/aquasecurity\/trivy@0\.50\.0"$/);
});

test('attestations: no attestation of the predicate type fails as missing, naming the type and the functionaries', async () => {
  const report = await run([noCritical()], {});
  assert.equal(report.ok, false);
  const [missing] = attestationChecks(report);
  assert.equal(missing!.ok, false);
  assert.equal(
    missing!.message,
    `missing attestation: no ${VULNS} signed by ${scanner().keyid.slice(0, 8)} about build's materials or products`,
  );
  // the rules are not reported as passing when there is nothing to apply them to
  assert.equal(attestationChecks(report).length, 1);
});

test('attestations: one signed by someone who is not a functionary is ignored, and the step misses its attestation', async () => {
  const report = await run([noCritical()], scanned(undefined, [mallory()]));
  assert.equal(report.ok, false);
  const [missing] = attestationChecks(report);
  assert.match(missing!.message, /^missing attestation: no .* signed by [0-9a-f]{8} about build's materials or products; /);
  assert.match(
    missing!.message,
    new RegExp(`scan\\.vulns\\.json: is signed by ${mallory().keyid.slice(0, 8)}, not by a functionary of build`),
  );
});

test("attestations: functionaries default to the step's pubkeys", async () => {
  const byBuilder = { 'vulns.json': attestation(VULNS, vulns([]), [builder()]) };
  const ok = await run([noCritical({ functionaries: undefined })], byBuilder);
  assert.equal(ok.ok, true, formatReport(ok));
  const byScanner = await run([noCritical({ functionaries: undefined })], scanned());
  assert.equal(byScanner.ok, false, 'the scanner is not a functionary of build');
});

test('attestations: one about another artifact is ignored (its subjects share no digest with the step)', async () => {
  const other = { 'scan.json': attestation(VULNS, vulns([]), [scanner()], { 'other.tar': 'something else\n' }) };
  const report = await run([noCritical()], other);
  const [missing] = attestationChecks(report);
  assert.equal(missing!.ok, false);
  assert.match(missing!.message, /scan\.json: is about other\.tar sha256:[0-9a-f]{12}, none of build's materials or products/);
});

test('attestations: a tampered attestation does not verify and does not count', async () => {
  const env = attestation(VULNS, vulns([finding('CVE-1', 'CRITICAL')]), [scanner()]) as { payload: string };
  const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { predicate: { scanner: { result: unknown[] } } };
  statement.predicate.scanner.result = [];
  env.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
  const report = await run([noCritical()], { 'scan.json': env });
  assert.equal(report.ok, false);
  assert.match(attestationChecks(report)[0]!.message, /^missing attestation/);
});

test('attestations: every attestation that counts must satisfy the rule', async () => {
  const files = {
    'a.json': attestation(VULNS, vulns([]), [scanner()]),
    'b.json': attestation(VULNS, vulns([finding('CVE-9', 'CRITICAL')]), [scanner()]),
  };
  const report = await run([noCritical()], files);
  assert.equal(report.ok, false);
  assert.match(attestationChecks(report)[0]!.message, /^2 attestations of/);
  assert.match(attestationChecks(report).find((c) => !c.ok)!.message, /for the attestation in .*b\.json/);
});

test('attestations: allow_if_no_claim lets a rule over an absent field hold, and a predicate all of whose rules allow it be absent', async () => {
  const rule = "predicate.scanner.database.version == '2'";
  const absent = await run([noCritical({ expected_attributes: [{ rule }] })], scanned());
  assert.equal(absent.ok, false);
  assert.match(attestationChecks(absent).find((c) => !c.ok)!.message, /could not be evaluated \(field not found: database\)/);
  const allowed = await run([noCritical({ expected_attributes: [{ rule, allow_if_no_claim: true }] })], scanned());
  assert.equal(allowed.ok, true, formatReport(allowed));
  assert.match(attestationChecks(allowed)[1]!.message, /holds \(the attestation does not say; allow_if_no_claim\)$/);
  // a present field that is wrong still fails
  const wrong = await run(
    [noCritical({ expected_attributes: [{ rule: "predicate.scanner.version == '1'", allow_if_no_claim: true }] })],
    scanned(),
  );
  assert.equal(wrong.ok, false);
  const none = await run([noCritical({ expected_attributes: [{ rule, allow_if_no_claim: true }] })], {});
  assert.equal(none.ok, true, formatReport(none));
  assert.equal(attestationChecks(none)[0]!.warning, true);
  assert.match(attestationChecks(none)[0]!.message, /^missing attestation: .* \(allowed: every rule has allow_if_no_claim\)$/);
});

test('attestations: a warn rule that does not hold is a warning, not a failure', async () => {
  const predicate = vulns([finding('CVE-7', 'CRITICAL')]);
  const report = await run(
    [noCritical({ expected_attributes: [{ rule: noCritical().expected_attributes![0]!.rule, warn: true }] })],
    scanned(predicate),
  );
  assert.equal(report.ok, true, formatReport(report));
  const warned = attestationChecks(report)[1]!;
  assert.equal(warned.warning, true);
  assert.match(warned.message, /is false .* \(a warning: the rule has warn\)$/);
  assert.match(formatReport(report), /^! build: /m);
});

test('attestations: a rule whose work is bounded above the budget is refused, not run', async () => {
  const findings = Array.from({ length: 5000 }, (_, i) => finding(`CVE-${i}`, 'LOW', `p${i}`));
  const rule = 'predicate.scanner.result.all(f, predicate.scanner.result.exists(g, g.id == f.id))';
  const started = performance.now();
  const report = await run([noCritical({ expected_attributes: [{ rule }] })], scanned(vulns(findings)));
  const bad = attestationChecks(report).find((c) => !c.ok)!;
  assert.match(
    bad.message,
    /exceeds the cost limit: its work is bounded by [0-9.]+e\+\d+ evaluations for the largest list or map of 5000 entries, over the budget of 1e\+7; it was not evaluated/,
  );
  assert.equal(bad.details!.outcome, 'cost');
  assert.ok(performance.now() - started < 20_000);
  // the same rule over a short list is within the budget, and holds
  const small = await run([noCritical({ expected_attributes: [{ rule }] })], scanned(vulns(findings.slice(0, 20))));
  assert.equal(small.ok, true, formatReport(small));
});

test('attestations: a rule the layout carries that is not valid CEL fails verification, saying why', async () => {
  const report = await run(
    [noCritical({ expected_attributes: [{ rule: 'predicate.scanner.uri ==' }, { rule: 'signer.keyID != ""' }] })],
    scanned(),
  );
  const bad = attestationChecks(report).filter((c) => !c.ok);
  assert.equal(bad.length, 2);
  assert.match(bad[0]!.message, /rule "predicate\.scanner\.uri ==" cannot be used: is not CEL: .* \(column \d+\)$/);
  assert.match(
    bad[1]!.message,
    /rule "signer\.keyID != \\"\\"" cannot be used: does not type-check: signer has no field 'keyID' \(its fields are keyid, spiffeId\)/,
  );
});

test('attestations: rules see the signer, the timestamp (null without a token), the subject and the step link', async () => {
  const rules = [
    `signer.keyid == '${scanner().keyid}' && signer.spiffeId == null`,
    'timestamp == null',
    "subject.exists(s, s.name == 'app.tar' && s.digest.sha256 == products['app.tar'].sha256)",
    'size(materials) == 0 && predicateType.endsWith("/vulns")',
  ];
  const report = await run([noCritical({ expected_attributes: rules.map((rule) => ({ rule })) })], scanned());
  assert.equal(report.ok, true, formatReport(report));
  assert.equal(attestationChecks(report).length, 1 + rules.length);
});

test('attestations: two expected predicates are checked each on their own', async () => {
  const PROV = 'https://slsa.dev/provenance/v1';
  const files = {
    ...scanned(),
    'build.prov.json': attestation(PROV, { runDetails: { builder: { id: 'spiffe://demo.evident/ci/builder' } } }, [builder()]),
  };
  const provenance: ExpectedPredicate = {
    predicate_type: PROV,
    expected_attributes: [{ rule: "predicate.runDetails.builder.id == 'spiffe://demo.evident/ci/builder'" }],
  };
  const report = await run([noCritical(), provenance], files);
  assert.equal(report.ok, true, formatReport(report));
  assert.equal(attestationChecks(report).length, 4);
});

test('attestations: JSON files that are not attestations are passed over; a broken envelope is named when one is missing', async () => {
  const files = {
    'package.json': { name: 'x', version: '1.0.0' },
    'broken.json': { payloadType: 'application/vnd.in-toto+json', payload: '!!', signatures: [] },
  };
  const report = await run([noCritical()], files);
  const [missing] = attestationChecks(report);
  assert.match(missing!.message, /broken\.json: is not a DSSE envelope: dsse: payload must be base64/);
  assert.doesNotMatch(missing!.message, /package\.json/);
});

test('attestations: an inspection expects attestations about what it finds, from the functionaries it names', async () => {
  const check = inspection('check', ['true'], [], ['ALLOW *']);
  check.expected_predicates = [noCritical()];
  const report = await run(undefined, scanned(), { inspect: [check], workFiles: PRODUCT });
  assert.equal(report.ok, true, formatReport(report));
  assert.deepEqual(
    attestationChecks(report).map((c) => c.step),
    ['check', 'check'],
  );
});

test('attestations: a layout without expected predicates reports no attestation check', async () => {
  const report = await run(undefined, scanned());
  assert.equal(report.ok, true, formatReport(report));
  assert.equal(attestationChecks(report).length, 0);
});
