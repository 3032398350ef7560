import { setOwnEntry } from '../../util/own-entry.js';
import { artifactNameProblem } from '../models/artifact-name.js';
import { formatExpires } from '../models/expires.js';
import { SLSA_VSA_PREDICATE_TYPE } from '../models/expected-vsa.js';
import type { ArtifactDict, ExpectedVsa, HashDict, Layout, Step } from '../models/types.js';
import { levelAttestations, type Attestation } from './attestation-pool.js';
import { attestationSigner, envelopeSigning, type AttestationSigner } from './attestation-signers.js';
import { indexedLink } from './indexed-link.js';
import type { Level } from './level-checks.js';
import type { VerifyContext } from './level.js';
import type { LoadedMetadata } from './metadata.js';
import type { LinkSigner, StepLinks } from './step-links.js';
import { isObject } from '../../util/json-object.js';

/**
 * How far in the future of the verification time a `timeVerified` may be: the verifier's clock and ours
 * differ a little. Further, the VSA did not exist yet at the verification time (a `--verify-time` replay).
 */
const CLOCK_SKEW_MS = 5 * 60_000;

/** What a VSA that counts says, as the report shows it. */
export interface VsaSummary {
  readonly verifierId: string;
  readonly timeVerified?: Date;
  readonly resourceUri?: string;
  readonly policy?: { readonly uri?: string; readonly digest: HashDict };
  readonly verifiedLevels: readonly string[];
  /** Its subjects by name: what the step made, for the artifact rules. */
  readonly products: ArtifactDict;
}

/** A VSA that counts for a step, and who signed it. */
interface CountedVsa {
  readonly attestation: Attestation;
  readonly signer: AttestationSigner;
  readonly summary: VsaSummary;
}

/**
 * Loads and reports the evidence of a step whose evidence is a VSA (`expected_vsa`, docs/policy.md): among
 * the in-toto DSSE envelopes of the level's folder (the `*.json` files beside the links, or those the
 * evidence store found by digest: attestation-pool.ts), the SLSA VSAs that
 *
 * 1. are signed by a functionary of the step, as an attestation is (attestation-signers.ts: its keys, or a
 *    certificate its `cert_constraints` accept, checked at the genTime of a trusted timestamp or else at
 *    the verification time; a step with `require_timestamps` counts only a time-stamped signature);
 * 2. say PASSED, name as `verifier.id` their signer's own identity (its SPIFFE ID, `urn:evident:keyid:…`)
 *    or the layout's `verifier_id` (the SLSA spec: consumers accept only specific signer-verifier pairs);
 * 3. satisfy the step's pins: `policy` digests, `resource_uri`, `verified_levels`, and `max_age` after
 *    `timeVerified` (never later than the verification time);
 * 4. name each subject by a usable artifact name (a subject without a name is named by its digest).
 *
 * Each counts once per signer identity, as links do, and stands for the step as a link whose products are
 * its subjects and whose materials are none. When one signer has several that differ in what they are
 * about (the folder holds VSAs of several artifacts by one verifier), those about an artifact this level's
 * links name are preferred; if that still leaves more than one, the step fails as ambiguous, saying which
 * pin would decide. Of several about the same artifacts, the newest counts. Returns the step's evidence
 * (for the threshold and the rules) and whether its check passed.
 */
export async function checkStepVsas(
  ctx: VerifyContext,
  layout: Layout,
  step: Step,
  level: Level,
  chainDigests: () => ReadonlySet<string>,
): Promise<{ found: StepLinks; ok: boolean }> {
  const found: StepLinks = { links: new Map(), signers: new Map(), ignored: [], errors: [] };
  const expected = step.expected_vsa!;
  const pool = await levelAttestations(ctx, level.dir);
  const bySigner = new Map<string, CountedVsa[]>();
  const predicate = { predicate_type: SLSA_VSA_PREDICATE_TYPE };
  let seen = 0;
  for (const attestation of pool.attestations) {
    if (attestation.statement.predicateType !== SLSA_VSA_PREDICATE_TYPE) continue;
    seen++;
    const verdict = await attestationSigner(
      attestation,
      predicate,
      step,
      layout,
      { time: ctx.now, given: ctx.timeGiven },
      ctx.intermediateCerts,
    );
    if (!verdict.ok) {
      found.ignored.push({ file: attestation.file, reason: verdict.reason });
      continue;
    }
    const summary = readVsa(attestation, verdict.signer, expected, ctx.now);
    if (typeof summary === 'string') {
      found.ignored.push({ file: attestation.file, reason: summary });
      continue;
    }
    const list = bySigner.get(verdict.signer.identity) ?? [];
    list.push({ attestation, signer: verdict.signer, summary });
    bySigner.set(verdict.signer.identity, list);
  }

  const counted: CountedVsa[] = [];
  const byKey = new Map<string, CountedVsa>();
  for (const [identity, list] of bySigner) {
    const chosen = choose(list, chainDigests, expected);
    if (typeof chosen === 'string') {
      found.errors.push({ file: list.map((c) => c.attestation.file).join(', '), reason: chosen });
      continue;
    }
    const chosenSet = subjectKey(chosen);
    for (const other of list) {
      if (other === chosen) continue;
      const reason =
        subjectKey(other) === chosenSet
          ? `${chosen.attestation.file}, about the same artifacts, is newer and counts instead`
          : `is about artifacts this level's links do not name; ${chosen.attestation.file} counts instead`;
      found.ignored.push({ file: other.attestation.file, reason });
    }
    // one key certified under two identities is one signer, as for links
    const same = byKey.get(chosen.signer.key.fingerprint);
    if (same !== undefined) {
      found.ignored.push({
        file: chosen.attestation.file,
        reason: `is signed by the same key as ${same.attestation.file}, which counts once`,
      });
      continue;
    }
    byKey.set(chosen.signer.key.fingerprint, chosen);
    counted.push(chosen);
    found.links.set(identity, asLink(step, chosen));
    found.signers.set(identity, signerOf(chosen));
  }

  const ok = counted.length >= step.threshold && found.errors.length === 0;
  report(ctx, step, level, { found, counted, ok, seen, unusable: pool.unusable });
  return { found, ok };
}

/** What a VSA says, checked against the step's pins and its signer; or why it does not count. */
function readVsa(attestation: Attestation, signer: AttestationSigner, expected: ExpectedVsa, now: Date): VsaSummary | string {
  const p = attestation.statement.predicate;
  if (!isObject(p)) return 'its predicate is not a JSON object';
  const verifierId = isObject(p.verifier) && typeof p.verifier.id === 'string' ? p.verifier.id : '';
  if (verifierId === '') return 'names no verifier (predicate.verifier.id)';
  const resourceUri = typeof p.resourceUri === 'string' ? p.resourceUri : undefined;
  if (p.verificationResult !== 'PASSED') {
    if (p.verificationResult === 'FAILED')
      return `says FAILED: ${verifierId} found that ${resourceUri ?? 'the artifact'} did not follow its policy`;
    return `its verificationResult is ${show(p.verificationResult)}, not PASSED`;
  }
  const pairing = verifierProblem(verifierId, signer, expected.verifier_id);
  if (pairing !== undefined) return pairing;

  let timeVerified: Date | undefined;
  if (p.timeVerified !== undefined) {
    timeVerified = typeof p.timeVerified === 'string' && RFC3339.test(p.timeVerified) ? new Date(p.timeVerified) : undefined;
    if (timeVerified === undefined || Number.isNaN(timeVerified.getTime()))
      return `its timeVerified ${show(p.timeVerified)} is not an RFC 3339 time`;
    if (timeVerified.getTime() > now.getTime() + CLOCK_SKEW_MS)
      return `says it was verified at ${formatExpires(timeVerified)}, after the verification time ${formatExpires(now)}`;
  }
  if (expected.max_age !== undefined) {
    if (timeVerified === undefined)
      return `says not when it was verified (timeVerified), and the layout accepts VSAs for ${age(expected.max_age)}`;
    if (now.getTime() - timeVerified.getTime() > expected.max_age * 1000) {
      return `has expired: verified at ${formatExpires(timeVerified)}, more than ${age(expected.max_age)} (max_age) before ${formatExpires(now)}`;
    }
  }
  if (expected.resource_uri !== undefined && resourceUri !== expected.resource_uri)
    return `is about resourceUri ${show(resourceUri)}, the layout expects ${show(expected.resource_uri)}`;

  const policy = policyOf(p.policy);
  if (expected.policy !== undefined) {
    if (policy === undefined || Object.keys(policy.digest).length === 0)
      return `names no digest of the policy it followed (policy.digest); the layout pins ${digestsText(expected.policy)}`;
    if (!expected.policy.some((pin) => sameDigest(pin, policy.digest)))
      return `followed the policy ${policy.uri !== undefined ? `${show(policy.uri)} ` : ''}(${digestText(policy.digest)}), not one the layout pins (${digestsText(expected.policy)})`;
  }
  const verifiedLevels = Array.isArray(p.verifiedLevels) ? p.verifiedLevels.filter((l): l is string => typeof l === 'string') : [];
  const missing = (expected.verified_levels ?? []).filter((l) => !verifiedLevels.includes(l));
  if (missing.length > 0) return `claims the levels ${show(verifiedLevels)}, not ${missing.join(', ')}`;

  const products = productsOf(attestation);
  if (typeof products === 'string') return products;
  return {
    verifierId,
    verifiedLevels,
    products,
    ...(timeVerified !== undefined ? { timeVerified } : {}),
    ...(resourceUri !== undefined ? { resourceUri } : {}),
    ...(policy !== undefined ? { policy } : {}),
  };
}

/** RFC 3339 with a zone, as the in-toto Timestamp field type requires. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const EVIDENT_KEYID_URN = 'urn:evident:keyid:';

/**
 * Whether the VSA's verifier may be who signed it. A SPIFFE ID or evident's `urn:evident:keyid:` names an
 * identity the signature proves or disproves: it must be the signer's. Any other id (a vendor's verifier
 * URL) is accepted only when the layout names it (`verifier_id`) for this step's signers.
 */
function verifierProblem(verifierId: string, signer: AttestationSigner, pinned: string | undefined): string | undefined {
  if (pinned !== undefined && verifierId !== pinned) return `names the verifier ${show(verifierId)}, the layout expects ${show(pinned)}`;
  if (verifierId.startsWith('spiffe://')) {
    if (verifierId !== signer.spiffeId)
      return `names the verifier ${verifierId} but is signed by ${signer.shown}: a VSA cannot speak for another identity`;
    return undefined;
  }
  if (verifierId.startsWith(EVIDENT_KEYID_URN)) {
    if (verifierId !== `${EVIDENT_KEYID_URN}${signer.keyid}`)
      return `names the verifier ${verifierId} but is signed by key ${signer.keyid.slice(0, 8)}: a VSA cannot speak for another key`;
    return undefined;
  }
  if (pinned === undefined)
    return `names the verifier ${show(verifierId)}, which is not its signer's identity (${signer.shown}); a layout accepts it from this signer only by naming it (verifier_id)`;
  return undefined;
}

function policyOf(value: unknown): { uri?: string; digest: HashDict } | undefined {
  if (!isObject(value)) return undefined;
  const digest: HashDict = {};
  if (isObject(value.digest)) {
    for (const [alg, hex] of Object.entries(value.digest)) if (typeof hex === 'string') setOwnEntry(digest, alg, hex.toLowerCase());
  }
  return { ...(typeof value.uri === 'string' ? { uri: value.uri } : {}), digest };
}

/** A pinned digest set matches when the two share an algorithm and agree on every one they share. */
function sameDigest(pin: HashDict, digest: HashDict): boolean {
  const shared = Object.keys(pin).filter((alg) => Object.hasOwn(digest, alg));
  return shared.length > 0 && shared.every((alg) => pin[alg] === digest[alg]);
}

/**
 * The VSA's subjects as the step's products: each by its name, a subject without one by its digest
 * (`sha256:…`, as `evident verify --product sha256:…` names it); digests in lowercase.
 */
function productsOf(attestation: Attestation): ArtifactDict | string {
  const products: ArtifactDict = {};
  for (const [i, subject] of attestation.statement.subject.entries()) {
    const digest: HashDict = {};
    for (const [alg, hex] of Object.entries(subject.digest as Record<string, string>)) setOwnEntry(digest, alg, hex.toLowerCase());
    const first = Object.entries(digest)[0];
    const name =
      typeof subject.name === 'string' && subject.name !== '' ? subject.name : first !== undefined ? `${first[0]}:${first[1]}` : '';
    const problem = artifactNameProblem(name);
    if (problem !== undefined) return `subject[${i}] cannot stand for a product: ${problem}`;
    if (Object.hasOwn(products, name)) return `names ${show(name)} twice among its subjects`;
    setOwnEntry(products, name, digest);
  }
  return products;
}

/**
 * The one of a signer's VSAs that counts: of several about the same artifacts the newest; of several about
 * different ones, those about an artifact of this level's links, if that leaves one set of artifacts.
 */
function choose(list: readonly CountedVsa[], chainDigests: () => ReadonlySet<string>, expected: ExpectedVsa): CountedVsa | string {
  let candidates = list;
  if (subjectSets(candidates).size > 1) {
    const chain = chainDigests();
    const used = candidates.filter((c) => [...c.attestation.digests].some((d) => chain.has(d)));
    if (used.length > 0) candidates = used;
  }
  if (subjectSets(candidates).size > 1) {
    const about = candidates.map((c) => `${c.attestation.file} about ${Object.keys(c.summary.products).slice(0, 3).join(', ')}`);
    const pins = (['resource_uri', 'policy'] as const).filter((f) => expected[f] === undefined);
    return (
      `${candidates.length} VSAs by ${candidates[0]!.signer.shown} say PASSED about different artifacts (${about.join('; ')}), and the layout's links name ${candidates.length === list.length ? 'none or several of them' : 'several of them'}` +
      `: ${pins.length > 0 ? `pin ${pins.join(' or ')} in the layout, or ` : ''}keep only the one meant beside the links`
    );
  }
  return candidates.reduce((newest, c) =>
    (c.summary.timeVerified?.getTime() ?? -Infinity) > (newest.summary.timeVerified?.getTime() ?? -Infinity) ? c : newest,
  );
}

function subjectSets(list: readonly CountedVsa[]): Set<string> {
  return new Set(list.map(subjectKey));
}

/** What a VSA is about, as one comparable text: its subjects by name, sorted. */
function subjectKey(c: CountedVsa): string {
  return JSON.stringify(Object.entries(c.summary.products).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The VSA as the link verification goes on with: no materials, its subjects as products, no command. */
function asLink(step: Step, vsa: CountedVsa): LoadedMetadata {
  const envelope = vsa.attestation.envelope;
  const link = {
    _type: 'link' as const,
    name: step.name,
    command: [],
    materials: {},
    products: vsa.summary.products,
    byproducts: {},
    environment: {},
  };
  return { signed: indexedLink(link), signatures: envelope.signatures, ...envelopeSigning(envelope) };
}

function signerOf(vsa: CountedVsa): LinkSigner {
  const { signer } = vsa;
  return {
    id: signer.identity,
    shown: signer.shown,
    key: signer.key,
    file: vsa.attestation.file,
    ...(signer.timestamp !== undefined ? { timestamp: signer.timestamp } : {}),
  };
}

/** One `step-links` check for the step, as for links: how many VSAs counted, what each says, and why others did not count. */
function report(
  ctx: VerifyContext,
  step: Step,
  level: Level,
  r: {
    found: StepLinks;
    counted: readonly CountedVsa[];
    ok: boolean;
    seen: number;
    unusable: readonly { readonly file: string; readonly reason: string }[];
  },
): void {
  const { found, counted, ok } = r;
  const plural = step.threshold === 1 ? '' : 's';
  const head = `${counted.length} of ${step.threshold} required VSA${plural} (${SLSA_VSA_PREDICATE_TYPE}) by distinct authorized functionaries`;
  const each = counted.map(vsaText);
  let message = head + (each.length > 0 ? `: ${each.join('; ')}` : '');
  if (!ok) {
    const problems = [...found.errors, ...found.ignored, ...r.unusable].map((x) => `${x.file}: ${x.reason}`);
    if (r.seen === 0 && r.unusable.length === 0) {
      const where = ctx.source.describe(level.dir) || 'the links';
      problems.push(`no VSA among the in-toto attestations (*.json) in ${where}`);
    }
    message += problems.length > 0 ? `; ${problems.join('; ')}` : '';
  }
  ctx.report.add({
    id: 'step-links',
    ok,
    step: `${level.prefix}${step.name}`,
    message,
    details: {
      evidence: 'vsa',
      threshold: step.threshold,
      signers: counted.map((c) => c.signer.identity),
      vsas: counted.map((c) => ({
        file: c.attestation.file,
        signer: c.signer.identity,
        verifier: c.summary.verifierId,
        ...(c.summary.timeVerified !== undefined ? { timeVerified: c.summary.timeVerified.toISOString() } : {}),
        ...(c.summary.resourceUri !== undefined ? { resourceUri: c.summary.resourceUri } : {}),
        ...(c.summary.policy !== undefined ? { policy: c.summary.policy } : {}),
        verifiedLevels: c.summary.verifiedLevels,
        subjects: c.summary.products,
        ...(c.signer.timestamp !== undefined ? { timestamp: c.signer.timestamp.genTime.toISOString() } : {}),
      })),
      errors: found.errors,
      ignored: found.ignored,
      unusable: r.unusable,
    },
  });
}

function vsaText(c: CountedVsa): string {
  const s = c.summary;
  const parts = [
    'PASSED',
    `verifier ${s.verifierId}`,
    ...(s.policy !== undefined && Object.keys(s.policy.digest).length > 0 ? [`policy ${digestText(s.policy.digest)}`] : []),
    ...(s.timeVerified !== undefined ? [`verified ${formatExpires(s.timeVerified)}`] : []),
    `about ${Object.keys(s.products).slice(0, 3).join(', ')}${Object.keys(s.products).length > 3 ? ', …' : ''}`,
  ];
  return `${c.attestation.file} by ${c.signer.shown} (${parts.join(', ')})`;
}

function digestText(digest: HashDict): string {
  const [alg, hex] = Object.entries(digest)[0] ?? ['?', ''];
  return `${alg}:${hex.slice(0, 12)}…`;
}

function digestsText(digests: readonly HashDict[]): string {
  return digests.map(digestText).join(' or ');
}

/** A max_age as written in a spec: 7d, 12h, 30m, or seconds. */
function age(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** A value in a message: JSON, cut when long. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
