/**
 * A VSA as a step's evidence (docs/policy.md, "A VSA as a step's evidence"): team B's layout has a step
 * `lib` whose evidence is team A's signed SLSA Verification Summary of lib.tar, and a step `build` that used
 * lib.tar. Real keys and signatures; the pass and every way a VSA is refused, each with its reason.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyDict } from '../../../src/crypto/key-dict.js';
import { signEnvelope } from '../../../src/crypto/dsse.js';
import type { PrivateKey } from '../../../src/crypto/keys.js';
import type { Signer } from '../../../src/crypto/signer.js';
import { signMetablock } from '../../../src/intoto/models/metablock.js';
import type { ExpectedVsa, Layout, Step } from '../../../src/intoto/models/types.js';
import { formatReport, verify, type Check, type VerificationReport, type VerifyOptions } from '../../../src/intoto/verify/index.js';
import { caEntry, certSigner, makeCert, makeRoot, uriConstraint, type TestCert } from '../../helpers/pki.js';
import { artifacts, layout, link, sha256, sign, step, testKey } from './fixtures.js';

const VSA = 'https://slsa.dev/verification_summary/v1';
const owner = () => testKey(40);
const verifierA = () => testKey(41);
const builderB = () => testKey(42);
const mallory = () => testKey(43);
const verifierC = () => testKey(44);

const LIB = 'the library team A built\n';
const POLICY = sha256('team A root.layout bytes');
const NOW = new Date('2026-03-10T12:00:00Z');
const VERIFIED = '2026-03-09T12:00:00Z';

/** The predicate `evident verify --vsa` writes for lib.tar, with `changes` applied (undefined removes a field). */
function predicate(by: PrivateKey | string, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    verifier: { id: typeof by === 'string' ? by : `urn:evident:keyid:${by.keyid}`, version: { evident: '0.1.0' } },
    timeVerified: VERIFIED,
    resourceUri: 'pkg:generic/lib.tar',
    policy: { uri: 'pkg:generic/root.layout', digest: { sha256: POLICY } },
    inputAttestations: [{ name: 'build.0123abcd.link', digest: { sha256: sha256('a link') } }],
    verificationResult: 'PASSED',
    verifiedLevels: ['EVIDENT_LAYOUT_VERIFIED'],
    slsaVersion: '1.0',
  };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** A DSSE envelope of a VSA about `subjects` (name → content), signed by `signers`. */
function vsa(p: Record<string, unknown>, signers: Signer[], subjects: Record<string, string> = { 'lib.tar': LIB }): object {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: Object.entries(artifacts(subjects)).map(([name, digest]) => ({ name, digest })),
    predicateType: VSA,
    predicate: p,
  };
  return signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), signers);
}

/** Team B's layout: `lib` takes a VSA by `verifiers` (pinned by `expected`), `build` used lib.tar to make app.tar. */
function teamB(expected: ExpectedVsa = {}, options: { verifiers?: PrivateKey[]; threshold?: number; lib?: Partial<Step> } = {}): Layout {
  const verifiers = options.verifiers ?? [verifierA()];
  const lib: Step = {
    ...step({ name: 'lib', keys: verifiers, threshold: options.threshold, products: ['CREATE lib.tar', 'DISALLOW *'] }),
    expected_vsa: expected,
    ...options.lib,
  };
  const build = step({
    name: 'build',
    keys: [builderB()],
    materials: ['MATCH lib.tar WITH PRODUCTS FROM lib', 'DISALLOW *'],
    products: ['CREATE app.tar', 'DISALLOW *'],
  });
  return layout([lib, build], [...verifiers, builderB(), mallory()]);
}

/** Verifies team B's chain: the build link (which used `used` as lib.tar) and `files` beside it; at NOW unless `options` say otherwise. */
async function run(
  l: Layout,
  files: Record<string, object>,
  used = LIB,
  options: Pick<VerifyOptions, 'verifyTime' | 'intermediateCerts'> = {},
): Promise<VerificationReport> {
  const buildLink = link('build', { materials: artifacts({ 'lib.tar': used }), products: artifacts({ 'app.tar': 'app\n' }) });
  const links = { [`build.${builderB().keyid.slice(0, 8)}.link`]: sign(buildLink, [builderB()]), ...files };
  return verify({ layout: sign(l, [owner()]), layoutKeys: [owner().publicKey], links, runInspections: false, verifyTime: NOW, ...options });
}

const libCheck = (r: VerificationReport): Check => r.checks.find((c) => c.id === 'step-links' && c.step === 'lib')!;

/** The VSA is refused: the step fails, and its line says why. */
async function refused(l: Layout, files: Record<string, object>, reason: RegExp): Promise<Check> {
  const report = await run(l, files);
  assert.equal(report.ok, false, formatReport(report));
  const check = libCheck(report);
  assert.equal(check.ok, false);
  assert.match(
    check.message,
    /^0 of 1 required VSA \(https:\/\/slsa\.dev\/verification_summary\/v1\) by distinct authorized functionaries; /,
  );
  assert.match(check.message, reason);
  return check;
}

test('vsa evidence: a PASSED VSA by the step functionary stands for the step; its subject is the product the next step matches', async () => {
  const pins: ExpectedVsa = {
    policy: [{ sha256: POLICY }],
    verifier_id: `urn:evident:keyid:${verifierA().keyid}`,
    resource_uri: 'pkg:generic/lib.tar',
    verified_levels: ['EVIDENT_LAYOUT_VERIFIED'],
    max_age: 7 * 86_400,
  };
  const report = await run(teamB(pins), { 'lib.vsa.json': vsa(predicate(verifierA()), [verifierA()]) });
  assert.equal(report.ok, true, formatReport(report));
  const check = libCheck(report);
  assert.equal(
    check.message,
    `1 of 1 required VSA (${VSA}) by distinct authorized functionaries: lib.vsa.json by ${verifierA().keyid.slice(0, 8)} ` +
      `(PASSED, verifier urn:evident:keyid:${verifierA().keyid}, policy sha256:${POLICY.slice(0, 12)}…, verified 2026-03-09T12:00:00Z, about lib.tar)`,
  );
  assert.equal(check.details!.evidence, 'vsa');
  const [counted] = check.details!.vsas as { subjects: Record<string, unknown>; policy: unknown }[];
  assert.deepEqual(counted!.subjects, artifacts({ 'lib.tar': LIB }));
  assert.match(formatReport(report), /^✓ lib: products: 2 rules passed over 1 artifact$/m);
  assert.match(formatReport(report), /^✓ build: materials: 2 rules passed over 1 artifact$/m);
  // no pins at all: the VSA still must be PASSED and by a functionary
  assert.equal((await run(teamB(), { 'lib.vsa.json': vsa(predicate(verifierA()), [verifierA()]) })).ok, true);
});

test('vsa evidence: a lib.tar other than the one team A verified fails the MATCH of the step that used it', async () => {
  const report = await run(teamB(), { 'lib.vsa.json': vsa(predicate(verifierA()), [verifierA()]) }, 'a lib.tar nobody verified\n');
  assert.equal(report.ok, false);
  assert.equal(libCheck(report).ok, true, 'the VSA itself counts');
  assert.match(formatReport(report), /^✗ build: materials: MATCH lib\.tar WITH PRODUCTS FROM lib: lib\.tar .* ≠ lib's/m);
});

test('vsa evidence: a FAILED verification is refused', async () => {
  const failed = predicate(verifierA(), { verificationResult: 'FAILED', verifiedLevels: ['FAILED'] });
  await refused(
    teamB(),
    { 'lib.vsa.json': vsa(failed, [verifierA()]) },
    /lib\.vsa\.json: says FAILED: urn:evident:keyid:[0-9a-f]+ found that pkg:generic\/lib\.tar did not follow its policy/,
  );
  const odd = predicate(verifierA(), { verificationResult: 'OK' });
  await refused(teamB(), { 'lib.vsa.json': vsa(odd, [verifierA()]) }, /its verificationResult is "OK", not PASSED/);
});

test('vsa evidence: one signed by someone who is not a functionary of the step is refused', async () => {
  await refused(
    teamB(),
    { 'lib.vsa.json': vsa(predicate(mallory()), [mallory()]) },
    new RegExp(
      `lib\\.vsa\\.json: is signed by ${mallory().keyid.slice(0, 8)}, not by a functionary of lib for it \\(${verifierA().keyid.slice(0, 8)}\\)`,
    ),
  );
});

test('vsa evidence: a tampered VSA (changed after it was signed) is refused, saying the signature does not verify', async () => {
  const env = vsa(predicate(verifierA(), { verificationResult: 'FAILED' }), [verifierA()]) as { payload: string };
  const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { predicate: Record<string, unknown> };
  statement.predicate.verificationResult = 'PASSED';
  env.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
  await refused(
    teamB(),
    { 'lib.vsa.json': env },
    new RegExp(
      `lib\\.vsa\\.json: its signature by ${verifierA().keyid.slice(0, 8)} does not verify: the statement was changed after it was signed`,
    ),
  );
});

test('vsa evidence: an expired VSA (older than max_age), one from the future, and one without a time under max_age are refused', async () => {
  const old = predicate(verifierA(), { timeVerified: '2026-03-01T12:00:00Z' });
  await refused(
    teamB({ max_age: 7 * 86_400 }),
    { 'lib.vsa.json': vsa(old, [verifierA()]) },
    /lib\.vsa\.json: has expired: verified at 2026-03-01T12:00:00Z, more than 7d \(max_age\) before 2026-03-10T12:00:00Z/,
  );
  // the same VSA within its max_age passes
  assert.equal((await run(teamB({ max_age: 10 * 86_400 }), { 'lib.vsa.json': vsa(old, [verifierA()]) })).ok, true);
  const future = predicate(verifierA(), { timeVerified: '2026-03-11T12:00:00Z' });
  await refused(
    teamB(),
    { 'lib.vsa.json': vsa(future, [verifierA()]) },
    /says it was verified at 2026-03-11T12:00:00Z, after the verification time 2026-03-10T12:00:00Z/,
  );
  const timeless = predicate(verifierA(), { timeVerified: undefined });
  assert.equal((await run(teamB(), { 'lib.vsa.json': vsa(timeless, [verifierA()]) })).ok, true, 'timeVerified is optional');
  await refused(
    teamB({ max_age: 3600 }),
    { 'lib.vsa.json': vsa(timeless, [verifierA()]) },
    /says not when it was verified \(timeVerified\), and the layout accepts VSAs for 1h/,
  );
  await refused(
    teamB(),
    { 'lib.vsa.json': vsa(predicate(verifierA(), { timeVerified: 'yesterday' }), [verifierA()]) },
    /its timeVerified "yesterday" is not an RFC 3339 time/,
  );
});

test('vsa evidence: the policy the step pins must be the one the verification followed', async () => {
  const other = sha256('another layout');
  await refused(
    teamB({ policy: [{ sha256: other }] }),
    { 'lib.vsa.json': vsa(predicate(verifierA()), [verifierA()]) },
    new RegExp(
      `followed the policy "pkg:generic\\/root\\.layout" \\(sha256:${POLICY.slice(0, 12)}…\\), not one the layout pins \\(sha256:${other.slice(0, 12)}…\\)`,
    ),
  );
  // any of several pinned policies will do (a layout renewed without a gap)
  assert.equal(
    (await run(teamB({ policy: [{ sha256: other }, { sha256: POLICY }] }), { 'v.json': vsa(predicate(verifierA()), [verifierA()]) })).ok,
    true,
  );
  // a digest of another algorithm shares nothing with the pin
  await refused(
    teamB({ policy: [{ sha512: 'ab'.repeat(64) }] }),
    { 'v.json': vsa(predicate(verifierA()), [verifierA()]) },
    /not one the layout pins/,
  );
  const none = predicate(verifierA(), { policy: { uri: 'root.layout' } });
  await refused(
    teamB({ policy: [{ sha256: POLICY }] }),
    { 'v.json': vsa(none, [verifierA()]) },
    /names no digest of the policy it followed \(policy\.digest\)/,
  );
});

test('vsa evidence: resourceUri and verifiedLevels are checked where the layout pins them', async () => {
  const file = { 'lib.vsa.json': vsa(predicate(verifierA()), [verifierA()]) };
  await refused(
    teamB({ resource_uri: 'pkg:generic/lib@2' }),
    file,
    /is about resourceUri "pkg:generic\/lib\.tar", the layout expects "pkg:generic\/lib@2"/,
  );
  await refused(
    teamB({ verified_levels: ['SLSA_BUILD_LEVEL_3'] }),
    file,
    /claims the levels \["EVIDENT_LAYOUT_VERIFIED"\], not SLSA_BUILD_LEVEL_3/,
  );
});

test('vsa evidence: the verifier a VSA names must be its signer, or the one the layout names for the step', async () => {
  // a keyid URN of another key: a VSA cannot speak for another verifier
  await refused(
    teamB(),
    { 'lib.vsa.json': vsa(predicate(mallory()), [verifierA()]) },
    new RegExp(`names the verifier urn:evident:keyid:${mallory().keyid} but is signed by key ${verifierA().keyid.slice(0, 8)}`),
  );
  // a SPIFFE ID proven by no certificate
  await refused(
    teamB(),
    { 'lib.vsa.json': vsa(predicate('spiffe://team-a.example/verifier'), [verifierA()]) },
    /names the verifier spiffe:\/\/team-a\.example\/verifier but is signed by [0-9a-f]{8}: a VSA cannot speak for another identity/,
  );
  // a vendor's verifier URL: only when the layout names it
  const vendor = 'https://verifier.team-a.example';
  const file = { 'lib.vsa.json': vsa(predicate(vendor), [verifierA()]) };
  await refused(
    teamB(),
    file,
    /names the verifier "https:\/\/verifier\.team-a\.example", which is not its signer's identity .* \(verifier_id\)/,
  );
  assert.equal((await run(teamB({ verifier_id: vendor }), file)).ok, true);
  await refused(
    teamB({ verifier_id: 'https://other.example' }),
    file,
    /names the verifier "https:\/\/verifier\.team-a\.example", the layout expects "https:\/\/other\.example"/,
  );
});

test('vsa evidence: no VSA at all fails the step, saying where it looked; other statements are passed over', async () => {
  const other = signEnvelope(
    'application/vnd.in-toto+json',
    Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'x', digest: { sha256: POLICY } }],
        predicateType: 'https://slsa.dev/provenance/v1',
        predicate: {},
      }),
    ),
    [verifierA()],
  );
  const check = await refused(teamB(), { 'prov.json': other }, /no VSA among the in-toto attestations \(\*\.json\) in the links$/);
  assert.doesNotMatch(check.message, /prov\.json/);
});

test("vsa evidence: of one signer's VSAs, the newest about the same artifact counts, one about what the links use beats another, else it is ambiguous", async () => {
  const older = vsa(predicate(verifierA(), { timeVerified: '2026-03-08T12:00:00Z' }), [verifierA()]);
  const newer = vsa(predicate(verifierA()), [verifierA()]);
  const same = await run(teamB(), { 'a.json': newer, 'b.json': older });
  assert.equal(same.ok, true, formatReport(same));
  assert.match(libCheck(same).message, /: a\.json by /);
  assert.deepEqual(libCheck(same).details!.ignored, [
    { file: 'b.json', reason: 'a.json, about the same artifacts, is newer and counts instead' },
  ]);

  const tool = vsa(predicate(verifierA(), { resourceUri: 'pkg:generic/tool.tar', timeVerified: '2026-03-10T11:00:00Z' }), [verifierA()], {
    'tool.tar': 'a tool\n',
  });
  const preferred = await run(teamB(), { 'lib.json': newer, 'tool.json': tool });
  assert.equal(preferred.ok, true, formatReport(preferred));
  assert.match(libCheck(preferred).message, /: lib\.json by /);

  const other = vsa(predicate(verifierA(), { resourceUri: 'pkg:generic/other.tar' }), [verifierA()], { 'other.tar': 'other\n' });
  const ambiguous = await refused(
    teamB(),
    { 'other.json': other, 'tool.json': tool },
    /other\.json, tool\.json: 2 VSAs by [0-9a-f]{8} say PASSED about different artifacts \(other\.json about other\.tar; tool\.json about tool\.tar\)/,
  );
  assert.match(ambiguous.message, /pin resource_uri or policy in the layout, or keep only the one meant beside the links/);
  // a pin decides
  assert.equal(
    (await run(teamB({ resource_uri: 'pkg:generic/lib.tar' }), { 'lib.json': newer, 'tool.json': tool, 'other.json': other })).ok,
    true,
  );
});

test('vsa evidence: a threshold counts VSAs by distinct functionaries, which must agree on what they verified', async () => {
  const l = teamB({}, { verifiers: [verifierA(), verifierC()], threshold: 2 });
  const one = await run(l, { 'a.json': vsa(predicate(verifierA()), [verifierA()]) });
  assert.equal(one.ok, false);
  assert.match(libCheck(one).message, /^1 of 2 required VSAs /);
  const two = await run(l, { 'a.json': vsa(predicate(verifierA()), [verifierA()]), 'c.json': vsa(predicate(verifierC()), [verifierC()]) });
  assert.equal(two.ok, true, formatReport(two));
  // one VSA signed by both counts once: for the first functionary whose signature verifies
  const both = await run(l, { 'ac.json': vsa(predicate(verifierA()), [verifierA(), verifierC()]) });
  assert.equal(both.ok, false);
  const differ = await run(l, {
    'a.json': vsa(predicate(verifierA()), [verifierA()]),
    'c.json': vsa(predicate(verifierC()), [verifierC()], { 'lib.tar': 'another build of lib\n' }),
  });
  assert.equal(differ.ok, false);
  assert.match(formatReport(differ), /^✗ lib: links by [0-9a-f]{8} and [0-9a-f]{8} report different artifacts$/m);
});

test('vsa evidence: a subject without a name stands as its digest; an unusable or repeated name refuses the VSA', async () => {
  const digest = sha256(LIB);
  const statement = (subject: unknown[]) =>
    signEnvelope(
      'application/vnd.in-toto+json',
      Buffer.from(
        JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject, predicateType: VSA, predicate: predicate(verifierA()) }),
      ),
      [verifierA()],
    );
  const l = teamB(
    {},
    {
      lib: {
        expected_products: [
          ['ALLOW', `sha256:${digest}`],
          ['DISALLOW', '*'],
        ],
      },
    },
  );
  const unnamed = await run(l, { 'v.json': statement([{ digest: { sha256: digest } }]) });
  assert.equal(libCheck(unnamed).ok, true, formatReport(unnamed));
  assert.match(libCheck(unnamed).message, new RegExp(`about sha256:${digest}\\)$`));
  await refused(
    teamB(),
    { 'v.json': statement([{ name: 'a\\b', digest: { sha256: digest } }]) },
    /subject\[0\] cannot stand for a product: the name contains a backslash/,
  );
  await refused(
    teamB(),
    {
      'v.json': statement([
        { name: 'lib.tar', digest: { sha256: digest } },
        { name: 'lib.tar', digest: { sha256: POLICY } },
      ]),
    },
    /names "lib\.tar" twice among its subjects/,
  );
});

test('vsa evidence: the links of a VSA step are not read; the step runs no command', async () => {
  // a link named after the step by its functionary does not stand in for the VSA
  const stray = signMetablock(link('lib', { products: artifacts({ 'lib.tar': LIB }) }), [verifierA()]);
  const report = await run(teamB(), { [`lib.${verifierA().keyid.slice(0, 8)}.link`]: stray });
  assert.equal(report.ok, false);
  assert.match(libCheck(report).message, /no VSA among/);
  await assert.rejects(
    verify({ layout: sign(teamB({}, { lib: { expected_command: ['make'] } }), [owner()]), layoutKeys: [owner().publicKey], links: {} }),
    /steps\[0\]\.expected_command: must be empty: a step whose evidence is a VSA \(expected_vsa\) runs no command/,
  );
});

let root: TestCert;
let verifierSvid: TestCert;
let intruderSvid: TestCert;
const VERIFIER = 'spiffe://team-a.example/verifier';

before(async () => {
  root = await makeRoot('team-a');
  verifierSvid = await makeCert({ subject: 'O=team-a', issuer: root, uris: [VERIFIER], now: new Date('2026-03-10T00:00:00Z') });
  intruderSvid = await makeCert({
    subject: 'O=team-a',
    issuer: root,
    uris: ['spiffe://team-a.example/intruder'],
    now: new Date('2026-03-10T00:00:00Z'),
  });
});

/** Team B's layout with `lib` signed by team A's verifier SVID (its SPIFFE ID under team A's root). */
function svidLayout(expected: ExpectedVsa = {}): Layout {
  const l = teamB(expected, { verifiers: [], lib: { cert_constraints: [uriConstraint(VERIFIER, [caEntry(root).keyid])] } });
  l.rootcas = { [caEntry(root).keyid]: caEntry(root).dict as unknown as KeyDict };
  return l;
}

test('vsa evidence: a VSA signed by an SVID counts when its certificate satisfies the step constraints, at the verification time', async () => {
  const file = { 'lib.vsa.json': vsa(predicate(VERIFIER), [certSigner(verifierSvid)]) };
  const report = await run(svidLayout({ verifier_id: VERIFIER }), file);
  assert.equal(report.ok, true, formatReport(report));
  assert.match(libCheck(report).message, new RegExp(`lib\\.vsa\\.json by ${VERIFIER} \\(PASSED, verifier ${VERIFIER},`));
  // another identity of the same root is no functionary of the step
  const intruded = await run(svidLayout(), {
    'lib.vsa.json': vsa(predicate('spiffe://team-a.example/intruder'), [certSigner(intruderSvid)]),
  });
  assert.equal(intruded.ok, false);
  assert.match(libCheck(intruded).message, /does not satisfy lib's constraints/);
  // the SVID names one identity, the VSA another
  const lying = await run(svidLayout(), { 'lib.vsa.json': vsa(predicate('spiffe://team-a.example/boss'), [certSigner(verifierSvid)]) });
  assert.match(
    libCheck(lying).message,
    /names the verifier spiffe:\/\/team-a\.example\/boss but is signed by spiffe:\/\/team-a\.example\/verifier/,
  );
  // an SVID expired at the verification time (it lived a day from 2026-03-10): the VSA does not count
  const late = await run(svidLayout(), file, LIB, { verifyTime: new Date('2026-03-12T00:00:00Z') });
  assert.equal(late.ok, false);
  assert.match(libCheck(late).message, /lib\.vsa\.json: .*expired/);
});

test('vsa evidence: an intermediate given to verify (-i) completes the chain of a VSA signer, as of a link or an attestation', async () => {
  const { makeIntermediate } = await import('../../helpers/pki.js');
  const at = new Date('2026-03-10T00:00:00Z');
  const inter = await makeIntermediate(root, 'team-a ci', { now: at });
  // the VSA's signature carries the leaf alone: only -i completes its chain
  const leaf = await makeCert({ subject: 'O=team-a', issuer: inter, uris: [VERIFIER], now: at });
  const file = { 'lib.vsa.json': vsa(predicate(VERIFIER), [certSigner(leaf)]) };
  const verifyWith = (intermediateCerts: string[]) => run(svidLayout(), file, LIB, { intermediateCerts });
  const without = await verifyWith([]);
  assert.equal(without.ok, false);
  assert.match(libCheck(without).message, /does not chain to a trusted root/);
  const given = await verifyWith([inter.pem]);
  assert.equal(given.ok, true, formatReport(given));
});
