import type { PublicKey } from '../../crypto/keys.js';
import { formatExpires, parseExpires } from '../models/expires.js';
import { nameProblem } from '../models/problems.js';
import { parseRule } from '../models/rule.js';
import type { ArtifactRule, Inspection, Layout, RuleTokens, Step } from '../models/types.js';
import { applyArtifactRules, sameArtifactSets } from '../rules/apply.js';
import type { LinkArtifacts } from '../rules/types.js';
import { describeRules, failureDetails } from './describe.js';
import type { IndexedLink } from './indexed-link.js';
import type { VerifyContext } from './level.js';
import type { SignedMetadata } from './metadata.js';
import { loadStepLinks, prefetchStepLinks, type LinkSigner, type StepLinks } from './step-links.js';

/** Where a level sits: its links' folder and how its steps are named in the report. */
export interface Level {
  readonly dir: string;
  /** '' for the root, `pkg/` inside the sublayout of step `pkg`. */
  readonly prefix: string;
  /** The step a sublayout stands for; the root's own checks name no step. */
  readonly name?: string;
}

/** The links that count for each step, by step name, in layout order. */
export type StepLinkSets = Map<string, StepLinks>;

const stepOf = (level: Level) => (level.name !== undefined ? { step: level.name } : {});
const whatOf = (level: Level) => (level.name === undefined ? 'layout' : 'sublayout');

/** Every given key (each counted once) must have signed; the reference's verify_layout_signatures. */
export function checkLayoutSignatures(
  ctx: VerifyContext,
  metadata: SignedMetadata<Layout>,
  keys: readonly PublicKey[],
  level: Level,
): boolean {
  const unique = [...new Map(keys.map((k) => [k.keyid, k])).values()];
  const unsigned = unique.filter((k) => !metadata.signedBy(k)).map((k) => k.keyid);
  ctx.report.add({
    id: 'layout-signature',
    ok: unsigned.length === 0,
    ...stepOf(level),
    message:
      unsigned.length === 0
        ? `${whatOf(level)} signed by every given key (${unique.map((k) => k.keyid.slice(0, 8)).join(', ')})`
        : `${whatOf(level)} is not validly signed by ${unsigned.map((k) => k.slice(0, 8)).join(', ')}`,
    details: { keys: unique.map((k) => k.keyid), unsigned },
  });
  return unsigned.length === 0;
}

const LAYOUT_CLOCK_NAMES = { 'layout-time': '--layout-time', 'verify-time': '--verify-time', 'current-time': 'the current time' } as const;

/**
 * Expired when `expires` is before the layout clock (at it is still valid, as in the reference). The
 * message names the time unless it was simply now and the layout holds.
 */
export function checkExpiration(ctx: VerifyContext, layout: Layout, level: Level): boolean {
  const { time, source } = ctx.layoutClock;
  const expired = parseExpires(layout.expires).getTime() < time.getTime();
  const at = formatExpires(time);
  const when = expired || source !== 'current-time' ? ` (checked at ${at}, ${LAYOUT_CLOCK_NAMES[source]})` : '';
  ctx.report.add({
    id: 'layout-expiration',
    ok: !expired,
    ...stepOf(level),
    message: `${whatOf(level)} ${expired ? 'expired' : 'expires'} ${layout.expires}${when}`,
    details: { expires: layout.expires, time: time.toISOString(), source },
  });
  return !expired;
}

/** A warning for each pinned root that has expired, expires before the layout, or soon (models/root-expiry.ts). */
export async function checkRootExpiry(ctx: VerifyContext, layout: Layout, level: Level): Promise<void> {
  // the X.509 library is loaded only for a layout that pins roots: a static-key verify starts without it
  if (Object.keys(layout.rootcas ?? {}).length === 0) return;
  const { rootExpiryNotices } = await import('../models/root-expiry.js');
  for (const notice of rootExpiryNotices(layout, ctx.layoutClock.time)) {
    ctx.report.add({ id: 'root-expiry', ok: true, warning: true, ...stepOf(level), message: notice });
  }
}

/** Names become file and folder names: one that would leave the link folder ends the level. */
export function checkNames(ctx: VerifyContext, layout: Layout, level: Level): boolean {
  for (const item of [...layout.steps, ...layout.inspect]) {
    // `..`, `.`, `/`, NUL and '' are refused; `a..b` is harmless (no path separator can follow it)
    const problem = nameProblem(item.name);
    if (problem !== undefined) {
      ctx.report.add({
        id: 'step-links',
        ok: false,
        ...stepOf(level),
        message: `unsafe step name ${JSON.stringify(item.name)}: ${problem}`,
      });
      return false;
    }
  }
  return true;
}

/** Loads and checks every step's links; undefined when a step lacks its threshold or has a bad file. */
export async function checkStepLinks(ctx: VerifyContext, layout: Layout, level: Level): Promise<StepLinkSets | undefined> {
  const out: StepLinkSets = new Map();
  let ok = true;
  prefetchStepLinks(layout, ctx.source, level.dir);
  for (const s of layout.steps) {
    // a step whose evidence is a VSA comes after the links: which VSA counts may depend on what they name
    if (s.expected_vsa !== undefined) continue;
    if (s.cert_constraints !== undefined && s.cert_constraints.length > 0) reportCertificateTime(ctx, layout);
    ctx.progress(`reading the links of ${level.prefix}${s.name}`);
    const found = await loadStepLinks(layout, s, ctx.source, level.dir, {
      maxLinkBytes: ctx.maxLinkBytes,
      intermediateCerts: ctx.intermediateCerts,
      time: ctx.now,
      timeGiven: ctx.timeGiven,
    });
    out.set(s.name, found);
    const count = found.links.size;
    const stepOk = count >= s.threshold && found.errors.length === 0;
    ok = ok && stepOk;
    const signers = [...found.signers.values()];
    const byCertificate = signers.some((x) => x.certificate !== undefined) || (s.cert_constraints?.length ?? 0) > 0;
    const problems = [...found.errors, ...found.ignored].map((x) => `${x.file}: ${x.reason}`);
    const plural = s.threshold === 1 ? '' : 's';
    const names = signers.map(signerText).join(', ');
    ctx.report.add({
      id: 'step-links',
      ok: stepOk,
      step: `${level.prefix}${s.name}`,
      message:
        (byCertificate
          ? `${count} of ${s.threshold} link${plural} signed by ${signers.length > 0 ? names : 'an authorized functionary'}`
          : `${count} of ${s.threshold} required link${plural} by distinct authorized functionaries${signers.length > 0 ? ` (${names})` : ''}`) +
        (problems.length > 0 ? `; ${problems.join('; ')}` : ''),
      details: {
        threshold: s.threshold,
        signers: signers.map((x) => x.id),
        ...(byCertificate ? { certificates: signers.filter((x) => x.certificate).map(certificateDetails) } : {}),
        ...(signers.some((x) => x.timestamp) ? { timestamps: signers.filter((x) => x.timestamp).map(timestampDetails) } : {}),
        errors: found.errors,
        ignored: found.ignored,
      },
    });
  }
  const vsaSteps = layout.steps.filter((s) => s.expected_vsa !== undefined);
  if (vsaSteps.length === 0) return ok ? out : undefined;
  // loaded only for a layout that takes VSAs as evidence
  const { checkStepVsas } = await import('./vsa-evidence.js');
  let digests: Set<string> | undefined;
  const chain = () => (digests ??= chainDigests(out));
  for (const s of vsaSteps) {
    if (s.cert_constraints !== undefined && s.cert_constraints.length > 0) reportCertificateTime(ctx, layout);
    ctx.progress(`reading the VSAs of ${level.prefix}${s.name}`);
    const checked = await checkStepVsas(ctx, layout, s, level, chain);
    out.set(s.name, checked.found);
    ok = ok && checked.ok;
  }
  // in layout order again, as the rest of the verification reads them
  return ok ? new Map(layout.steps.map((s) => [s.name, out.get(s.name)!])) : undefined;
}

/** Every digest (`alg:hex`, lowercase) of the materials and products of the links loaded so far. */
function chainDigests(found: StepLinkSets): Set<string> {
  const out = new Set<string>();
  for (const set of found.values()) {
    for (const item of set.links.values()) {
      if (item.signed._type !== 'link') continue;
      for (const index of [item.signed.artifacts.materials, item.signed.artifacts.products]) {
        for (const path of index.keys()) {
          for (const [alg, hex] of Object.entries(index.get(path)!)) out.add(`${alg.toLowerCase()}:${hex.toLowerCase()}`);
        }
      }
    }
  }
  return out;
}

function certificateDetails(signer: LinkSigner): Record<string, unknown> {
  const c = signer.certificate!;
  return {
    identity: c.identity,
    subject: c.subject,
    keyid: signer.key.keyid,
    root: c.root,
    notAfter: c.notAfter.toISOString(),
    file: signer.file,
    checkedAt: c.checkedAt.toISOString(),
  };
}

/** The token that vouches for a signer's signature, for the JSON report. */
function timestampDetails(signer: LinkSigner): Record<string, unknown> {
  const t = signer.timestamp!;
  return {
    signer: signer.id,
    timestamp: t.index,
    genTime: t.genTime.toISOString(),
    tsa: t.tsa,
    root: t.root,
    serial: t.serial,
    policy: t.policy,
    file: signer.file,
  };
}

/**
 * How the step line names a signer: as before, and when a token vouches for its signature, when and by
 * which TSA (`spiffe://corp.example/ci/builder (timestamped 2026-03-01T12:00:05Z by O=corp, CN=TSA)`).
 */
function signerText(signer: LinkSigner): string {
  const t = signer.timestamp;
  return t === undefined ? signer.shown : `${signer.shown} (timestamped ${formatExpires(t.genTime)} by ${t.tsa})`;
}

/**
 * Before the first step that certificates may sign: the time they are checked at. Once per verification,
 * and once more for a sublayout that trusts time-stamping authorities when the line said otherwise.
 */
function reportCertificateTime(ctx: VerifyContext, layout: Layout): void {
  const at = formatExpires(ctx.now);
  const source = ctx.timeGiven ? '--verify-time' : 'verification time';
  const tsas = Object.keys(layout.timestampauthorities ?? {}).length > 0;
  const message = tsas
    ? `certificates checked at the genTime of a valid timestamp on their signature, else at ${at} (${source})`
    : `certificates checked at ${at} (${source}); links carry no attested signing time`;
  if (ctx.report.checks.some((c) => c.id === 'certificate-time' && (c.message === message || !tsas))) return;
  ctx.report.add({
    id: 'certificate-time',
    ok: true,
    message,
    details: {
      time: ctx.now.toISOString(),
      source: ctx.timeGiven ? 'verify-time' : 'verification-time',
      ...(tsas ? { timestamps: true } : {}),
    },
  });
}

/** A command other than the expected one is a warning, as the specification and the reference say. */
export function checkCommandAlignment(ctx: VerifyContext, layout: Layout, links: Map<string, IndexedLink[]>, level: Level): void {
  for (const s of layout.steps) {
    for (const link of links.get(s.name)!) {
      const same = link.command.length === s.expected_command.length && link.command.every((x, i) => x === s.expected_command[i]);
      if (same) continue;
      ctx.report.add({
        id: 'command-alignment',
        ok: true,
        warning: true,
        step: `${level.prefix}${s.name}`,
        message: `ran ${JSON.stringify(link.command)}, the layout expects ${JSON.stringify(s.expected_command)} (a warning, as in the reference)`,
      });
    }
  }
}

/** With a threshold above 1, all counted links must report the same materials and products. */
export function checkThresholdAgreement(
  ctx: VerifyContext,
  layout: Layout,
  links: Map<string, IndexedLink[]>,
  found: StepLinkSets,
  level: Level,
): boolean {
  let ok = true;
  for (const s of layout.steps) {
    // The reference compares only when the threshold is above 1 (and then keeps the first link anyway).
    if (s.threshold <= 1) continue;
    const list = links.get(s.name)!;
    const first = list[0]!.artifacts;
    const odd = list.findIndex(
      (l) => !sameArtifactSets(l.artifacts.materials, first.materials) || !sameArtifactSets(l.artifacts.products, first.products),
    );
    const shown = [...found.get(s.name)!.signers.values()].map((x) => x.shown);
    ok = ok && odd === -1;
    ctx.report.add({
      id: 'threshold-agreement',
      ok: odd === -1,
      step: `${level.prefix}${s.name}`,
      message:
        odd === -1
          ? `the ${list.length} links agree on materials and products`
          : `links by ${shown[0]!} and ${shown[odd]!} report different artifacts`,
    });
  }
  return ok;
}

/** An item's rules as the engine takes them (parsed here: each item's rules are applied once per verification). */
function rulesOf(tokens: readonly RuleTokens[], where: string): ArtifactRule[] {
  return tokens.map((t, i) => parseRule(t, `${where}[${i}]`));
}

/** Applies an item's material and product rules and reports each list as one check. */
export function checkItemRules(
  ctx: VerifyContext,
  shownName: string,
  item: Step | Inspection,
  links: ReadonlyMap<string, LinkArtifacts>,
): boolean {
  let ok = true;
  ctx.progress(`applying the rules of ${shownName}`);
  for (const type of ['materials', 'products'] as const) {
    const rules = rulesOf(type === 'materials' ? item.expected_materials : item.expected_products, `${item.name}.expected_${type}`);
    const result = applyArtifactRules({ item: item.name, type, rules, links });
    ok = ok && result.failure === undefined;
    ctx.report.add({
      id: 'rules',
      ok: result.failure === undefined,
      step: shownName,
      message: describeRules(result),
      details: failureDetails(result),
    });
  }
  return ok;
}

/**
 * The final product (VerifyOptions.product, a sha256) is one of the products of the root layout's steps:
 * what the verification vouches for, a VSA above all, must be something the verified chain made. The last
 * step that made it is named.
 */
export function checkProduct(ctx: VerifyContext, layout: Layout, links: ReadonlyMap<string, LinkArtifacts>, sha256: string): boolean {
  for (const s of [...layout.steps].reverse()) {
    const products = links.get(s.name)!.products;
    for (const path of products.keys()) {
      if (products.get(path)!.sha256?.toLowerCase() !== sha256) continue;
      ctx.report.add({
        id: 'product',
        ok: true,
        message: `the product sha256:${sha256.slice(0, 12)}… is ${path}, made by ${s.name}`,
        details: { sha256, path, step: s.name },
      });
      return true;
    }
  }
  ctx.report.add({
    id: 'product',
    ok: false,
    message: `the product sha256:${sha256.slice(0, 12)}… is none of the products of the layout's steps: the links say nothing of it`,
    details: { sha256 },
  });
  return false;
}
