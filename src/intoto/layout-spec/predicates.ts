import type { PublicKey } from '../../crypto/keys.js';
import type { ExpectedAttribute, ExpectedPredicate } from '../models/types.js';
import type { At, SpecReader } from './spec-reader.js';

const PREDICATE_KEYS = ['predicate_type', 'expected_attributes', 'functionaries'] as const;
const ATTRIBUTE_KEYS = ['rule', 'allow_if_no_claim', 'warn'] as const;

/** A rule as written in the spec, where it was: compile.ts type-checks it once CEL is loaded. */
export interface SpecRule {
  readonly at: At;
  readonly rule: string;
}

/**
 * A step's or inspection's `expected_predicates` (docs/policy.md), in the layout's own words:
 *
 *     expected_predicates:
 *       - predicate_type: https://in-toto.io/attestation/vulns
 *         functionaries: [scanner]          # key names; default: the step's functionaries
 *         expected_attributes:
 *           - "predicate.scanner.result.all(f, f.annotations.severity != 'CRITICAL')"
 *           - {rule: "has(predicate.scanner.database)", allow_if_no_claim: true, warn: true}
 *
 * A rule is a string, or a mapping with its flags. Each rule is handed to `rules` with its place, to be
 * parsed and type-checked with the rest (so that a spec without rules never loads CEL). Functionaries are
 * key names (→ keyids); a step's SPIFFE functionaries apply when `functionaries` is left out.
 */
export function compilePredicates(
  reader: SpecReader,
  at: At,
  keys: ReadonlyMap<string, PublicKey>,
  rules: SpecRule[],
  options: { inspection: boolean },
): ExpectedPredicate[] {
  const out: ExpectedPredicate[] = [];
  const items = reader.seq(at, 'of expected predicates: {predicate_type, expected_attributes, functionaries}');
  if (items?.length === 0) reader.report(at, 'is empty: leave expected_predicates out to expect no attestation');
  for (const itemAt of items ?? []) {
    const fields = reader.map(itemAt, PREDICATE_KEYS, 'an expected predicate: predicate_type, expected_attributes, functionaries');
    if (!fields) continue;
    const typeAt = fields.get('predicate_type');
    const type = typeAt === undefined ? undefined : reader.string(typeAt, "the predicate type's URI");
    if (typeAt === undefined) reader.report(itemAt, 'predicate_type is missing (the URI of the predicate the attestation must carry)');
    else if (type === '') reader.report(typeAt, "must be the predicate type's URI, not empty");
    const predicate: ExpectedPredicate = { predicate_type: type ?? '' };
    const attributesAt = fields.get('expected_attributes');
    if (attributesAt !== undefined) {
      predicate.expected_attributes = (
        reader.seq(attributesAt, 'of rules: CEL expressions, or {rule, allow_if_no_claim, warn}') ?? []
      ).flatMap((a) => compileAttribute(reader, a, rules) ?? []);
    }
    const functionariesAt = fields.get('functionaries');
    if (functionariesAt !== undefined) {
      const keyids: string[] = [];
      for (const f of reader.seq(functionariesAt, 'of key names') ?? []) {
        if (!reader.isScalarString(f)) {
          reader.report(f, "must be a key name: leave functionaries out for the step's own (its SPIFFE functionaries included)");
          continue;
        }
        const name = reader.string(f, 'a key name') as string;
        const key = keys.get(name);
        if (key === undefined)
          reader.report(f, `no key named '${name}' in keys${keys.size ? ` (known: ${[...keys.keys()].join(', ')})` : ''}`);
        else if (!keyids.includes(key.keyid)) keyids.push(key.keyid);
      }
      if (keyids.length > 0) predicate.functionaries = keyids;
    } else if (options.inspection) {
      reader.report(itemAt, 'functionaries are missing (an inspection has none of its own: name the keys that sign the attestation)');
    }
    out.push(predicate);
  }
  return out;
}

function compileAttribute(reader: SpecReader, at: At, rules: SpecRule[]): ExpectedAttribute | undefined {
  if (reader.isScalarString(at)) return ruleAt(reader, at, rules);
  const fields = reader.map(at, ATTRIBUTE_KEYS, 'a rule: a CEL expression, or {rule, allow_if_no_claim, warn}');
  if (!fields) return undefined;
  const textAt = fields.get('rule');
  if (textAt === undefined) {
    reader.report(at, 'rule is missing (the CEL expression)');
    return undefined;
  }
  const attribute = ruleAt(reader, textAt, rules);
  if (attribute === undefined) return undefined;
  for (const flag of ['allow_if_no_claim', 'warn'] as const) {
    const flagAt = fields.get(flag);
    if (flagAt === undefined) continue;
    const value = reader.boolean(flagAt, 'true or false');
    // written only when true: false is the default, and the layout stays as short as the spec
    if (value === true) attribute[flag] = true;
  }
  return attribute;
}

function ruleAt(reader: SpecReader, at: At, rules: SpecRule[]): ExpectedAttribute | undefined {
  const rule = reader.string(at, 'a CEL expression (quote it)');
  if (rule === undefined) return undefined;
  if (rule.trim() === '') {
    reader.report(at, 'an empty rule says nothing: write a CEL expression');
    return undefined;
  }
  rules.push({ at, rule });
  return { rule };
}
