import type { CelInput } from '@bufbuild/cel';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ExpectedAttribute, ExpectedPredicate, Inspection, Layout, Step } from '../models/types.js';
import { compileRule, type CompiledRule, type RuleProblem } from '../policy/compile-rule.js';
import { largestCollection } from '../policy/cost.js';
import { celJson } from '../policy/json-values.js';
import { evaluateRule, type RuleOutcome } from '../policy/evaluate.js';
import { EVALUATION_BUDGET } from '../policy/limits.js';
import type { RuleBindings } from '../policy/rule-env.js';
import { valuesSeen } from '../policy/seen.js';
import type { ArtifactIndex, LinkArtifacts } from '../rules/types.js';
import { levelAttestations, type Attestation } from './attestation-pool.js';
import { attestationSigner, type AttestationSigner } from './attestation-signers.js';
import type { VerifyContext } from './level.js';

/** A step or inspection whose expected predicates are checked, with what its link says it used and made. */
export interface AttestationItem {
  readonly item: Step | Inspection;
  /** Its name in the report (`parent/child` inside a sublayout). */
  readonly shown: string;
  readonly artifacts: LinkArtifacts;
}

/** An attestation that counts for an expected predicate, and who made it count. */
interface Counted {
  readonly attestation: Attestation;
  readonly signer: AttestationSigner;
}

/**
 * Checks the `expected_predicates` of `items` (docs/policy.md), each reported as `attestations` checks:
 * one saying which attestations count (or that one is missing), then one per rule. An attestation counts
 * for an expected predicate when it is a DSSE envelope in the level's folder (`dir`, attestation-pool.ts)
 * of an in-toto Statement of that predicate type, signed by one of its functionaries
 * (attestation-signers.ts), whose subjects share a digest with the item's materials or products (so an
 * attestation about another artifact, or another build, cannot stand in). Every rule must hold for every
 * attestation that counts: no functionary's claim is outvoted by another of its claims. A rule with `warn`
 * that does not hold is a warning; with `allow_if_no_claim`, one that reads a field the attestation lacks
 * holds, and when every rule of the predicate has it, no attestation at all is a warning. Returns whether
 * every check passed.
 */
export async function checkAttestations(
  ctx: VerifyContext,
  layout: Layout,
  dir: string,
  items: readonly AttestationItem[],
): Promise<boolean> {
  let ok = true;
  for (const entry of items) {
    for (const predicate of entry.item.expected_predicates ?? []) {
      ctx.progress(`checking the ${predicate.predicate_type} attestations of ${entry.shown}`);
      ok = (await checkPredicate(ctx, layout, dir, entry, predicate)) && ok;
    }
  }
  return ok;
}

async function checkPredicate(
  ctx: VerifyContext,
  layout: Layout,
  dir: string,
  entry: AttestationItem,
  predicate: ExpectedPredicate,
): Promise<boolean> {
  const pool = await levelAttestations(ctx, dir);
  const type = predicate.predicate_type;
  const attributes = predicate.expected_attributes ?? [];
  const counted: Counted[] = [];
  const ignored: { file: string; reason: string }[] = [];
  let digests: ReadonlySet<string> | undefined;
  for (const attestation of pool.attestations) {
    if (attestation.statement.predicateType !== type) continue;
    digests ??= artifactDigests(entry.artifacts);
    if (![...attestation.digests].some((d) => digests!.has(d))) {
      ignored.push({
        file: attestation.file,
        reason: `is about ${subjectsText(attestation)}, none of ${entry.item.name}'s materials or products`,
      });
      continue;
    }
    const at = { time: ctx.now, given: ctx.timeGiven };
    const verdict = await attestationSigner(attestation, predicate, entry.item, layout, at, ctx.intermediateCerts);
    if (verdict.ok) counted.push({ attestation, signer: verdict.signer });
    else ignored.push({ file: attestation.file, reason: verdict.reason });
  }
  const whose = functionariesText(predicate, entry.item);
  if (counted.length === 0) {
    // as the attestation verifier's allowIfNoClaim: a predicate all of whose rules allow no claim may be absent
    const allowed = attributes.length > 0 && attributes.every((a) => a.allow_if_no_claim === true);
    const why = [...ignored, ...pool.unusable].map((x) => `${x.file}: ${x.reason}`);
    ctx.report.add({
      id: 'attestations',
      ok: allowed,
      ...(allowed ? { warning: true as const } : {}),
      step: entry.shown,
      message:
        `missing attestation: no ${type} signed by ${whose} about ${entry.item.name}'s materials or products` +
        (allowed ? ' (allowed: every rule has allow_if_no_claim)' : '') +
        (why.length > 0 ? `; ${why.join('; ')}` : ''),
      details: { predicateType: type, functionaries: predicate.functionaries ?? null, ignored, unusable: pool.unusable },
    });
    return allowed;
  }
  ctx.report.add({
    id: 'attestations',
    ok: true,
    step: entry.shown,
    message: `${counted.length} attestation${counted.length === 1 ? '' : 's'} of ${type} by a functionary (${counted.map(countedText).join(', ')})`,
    details: {
      predicateType: type,
      attestations: counted.map((c) => ({
        file: c.attestation.file,
        signer: c.signer.keyid,
        ...(c.signer.spiffeId !== null ? { spiffeId: c.signer.spiffeId } : {}),
        ...(c.signer.timestamp !== undefined ? { timestamp: c.signer.timestamp.genTime.toISOString() } : {}),
      })),
      ignored,
    },
  });
  let ok = true;
  const context = new RuleContext(entry.artifacts);
  for (const attribute of attributes) ok = checkAttribute(ctx, entry, type, attribute, counted, context) && ok;
  return ok;
}

/** One rule over every attestation that counts; the first that it does not hold for is reported. */
function checkAttribute(
  ctx: VerifyContext,
  entry: AttestationItem,
  type: string,
  attribute: ExpectedAttribute,
  counted: readonly Counted[],
  context: RuleContext,
): boolean {
  const compiled = compiledRule(attribute.rule);
  const fail = (message: string, details: Record<string, unknown>): boolean => {
    const warn = attribute.warn === true;
    ctx.report.add({
      id: 'attestations',
      ok: warn,
      ...(warn ? { warning: true as const } : {}),
      step: entry.shown,
      message: `${type}: ${message}${warn ? ' (a warning: the rule has warn)' : ''}`,
      details: { predicateType: type, rule: attribute.rule, ...details },
    });
    return warn;
  };
  if ('problem' in compiled) {
    return fail(
      `rule ${quoted(attribute.rule)} cannot be used: ${compiled.problem}${compiled.column !== undefined ? ` (column ${compiled.column})` : ''}`,
      {
        outcome: 'invalid',
      },
    );
  }
  let allowedAbsent = 0;
  for (const c of counted) {
    const bindings = context.bindings(compiled, c);
    const outcome = evaluateRule(compiled, bindings, context.largest(compiled, c));
    if (outcome.kind === 'true') continue;
    if (outcome.kind === 'error' && outcome.missing && attribute.allow_if_no_claim === true) {
      allowedAbsent++;
      continue;
    }
    const seen = outcome.kind === 'cost' ? [] : valuesSeen(compiled, bindings);
    const from = `${c.attestation.file}, signed by ${c.signer.shown}`;
    return fail(
      `rule ${quoted(attribute.rule)} ${outcomeText(outcome)} for the attestation in ${from}${seen.length > 0 ? `; ${seen.join('; ')}` : ''}`,
      {
        outcome: outcome.kind,
        file: c.attestation.file,
        signer: c.signer.keyid,
        ...(outcome.kind === 'error' ? { error: outcome.message } : {}),
        ...(outcome.kind === 'cost' ? { bound: outcome.bound, largest: outcome.largest, budget: EVALUATION_BUDGET } : {}),
        seen,
      },
    );
  }
  const absent =
    allowedAbsent > 0
      ? ` (${allowedAbsent === counted.length ? 'the attestation does' : `${allowedAbsent} attestations do`} not say; allow_if_no_claim)`
      : '';
  ctx.report.add({
    id: 'attestations',
    ok: true,
    step: entry.shown,
    message: `${type}: rule ${quoted(attribute.rule)} holds${absent}`,
    details: { predicateType: type, rule: attribute.rule, outcome: allowedAbsent > 0 ? 'no-claim' : 'true' },
  });
  return true;
}

function outcomeText(outcome: Exclude<RuleOutcome, { kind: 'true' }>): string {
  switch (outcome.kind) {
    case 'false':
      return 'is false';
    case 'error':
      return `could not be evaluated (${outcome.message})`;
    case 'cost':
      return `exceeds the cost limit: its work is bounded by ${outcome.bound.toExponential(1)} evaluations for the largest list or map of ${outcome.largest} entries, over the budget of ${EVALUATION_BUDGET.toExponential(0)}; it was not evaluated`;
  }
}

/**
 * The values one item's rules are evaluated over, each made once: the link's materials and products as
 * maps only when a rule reads them (a link may list 10^5 artifacts), an attestation's largest collection
 * once however many rules read it.
 */
class RuleContext {
  private maps?: { materials: Map<string, CelInput>; products: Map<string, CelInput> };
  private readonly largestOf = new Map<Attestation, number>();

  constructor(private readonly artifacts: LinkArtifacts) {}

  bindings(rule: CompiledRule, c: Counted): RuleBindings {
    const { statement } = c.attestation;
    const bindings: RuleBindings = {
      subject: celJson(statement.subject),
      predicateType: statement.predicateType,
      predicate: celJson(statement.predicate),
      signer: celJson({ keyid: c.signer.keyid, spiffeId: c.signer.spiffeId }),
      timestamp: c.signer.timestamp !== undefined ? timestampFromDate(c.signer.timestamp.genTime) : null,
    };
    if (rule.shape.variables.has('materials') || rule.shape.variables.has('products')) {
      this.maps ??= { materials: asMap(this.artifacts.materials), products: asMap(this.artifacts.products) };
      Object.assign(bindings, this.maps);
    }
    return bindings;
  }

  largest(rule: CompiledRule, c: Counted): number {
    let largest = this.largestOf.get(c.attestation);
    if (largest === undefined) {
      largest = Math.max(largestCollection(c.attestation.statement.predicate), largestCollection(c.attestation.statement.subject));
      this.largestOf.set(c.attestation, largest);
    }
    const reads = (v: string) => rule.shape.variables.has(v);
    if (reads('materials')) largest = Math.max(largest, this.artifacts.materials.size);
    if (reads('products')) largest = Math.max(largest, this.artifacts.products.size);
    return largest;
  }
}

/** A link's artifacts as the map a rule reads: path → digests (a Map: a path may be `__proto__`). */
function asMap(index: ArtifactIndex): Map<string, CelInput> {
  const out = new Map<string, CelInput>();
  for (const path of index.keys()) out.set(path, celJson({ ...index.get(path)! }));
  return out;
}

/** Every digest of the item's artifacts, `alg:hex`, lowercase. */
function artifactDigests(artifacts: LinkArtifacts): Set<string> {
  const out = new Set<string>();
  for (const index of [artifacts.products, artifacts.materials]) {
    for (const path of index.keys()) {
      for (const [alg, hex] of Object.entries(index.get(path)!)) out.add(`${alg.toLowerCase()}:${hex.toLowerCase()}`);
    }
  }
  return out;
}

const MAX_COMPILED = 1000;
const compiled = new Map<string, CompiledRule | RuleProblem>();

/** Each rule text is compiled once per process (a deployment gate verifies the same layout again and again). */
function compiledRule(text: string): CompiledRule | RuleProblem {
  let rule = compiled.get(text);
  if (rule === undefined) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    rule = compileRule(text);
    compiled.set(text, rule);
  }
  return rule;
}

function functionariesText(predicate: ExpectedPredicate, item: Step | Inspection): string {
  const keyids = predicate.functionaries ?? (item._type === 'step' ? item.pubkeys : []);
  const names = keyids.map((k) => k.slice(0, 8));
  if (predicate.functionaries === undefined && item._type === 'step') {
    for (const c of item.cert_constraints ?? [])
      names.push(...c.uris.filter((u) => u !== '*'), ...(c.uris.every((u) => u === '*') ? [`CN=${c.common_name}`] : []));
  }
  if (names.length === 0) return 'nobody (no functionaries)';
  return names.length === 1 ? names[0]! : `one of ${names.join(', ')}`;
}

function countedText(c: Counted): string {
  const when = c.signer.timestamp !== undefined ? `, timestamped ${c.signer.timestamp.genTime.toISOString()}` : '';
  return `${c.attestation.file} by ${c.signer.shown}${when}`;
}

function subjectsText(a: Attestation): string {
  const names = a.statement.subject.slice(0, 3).map((d) => {
    const [alg, hex] = Object.entries(d.digest as Record<string, string>)[0] ?? ['?', ''];
    return `${typeof d.name === 'string' && d.name !== '' ? `${d.name} ` : ''}${alg}:${hex.slice(0, 12)}`;
  });
  return names.join(', ') + (a.statement.subject.length > 3 ? `, … ${a.statement.subject.length - 3} more` : '');
}

/** A rule as messages quote it: on one line, cut when long. */
function quoted(rule: string): string {
  const one = rule.replace(/\s+/g, ' ').trim();
  return JSON.stringify(one.length > 200 ? `${one.slice(0, 199)}…` : one);
}
