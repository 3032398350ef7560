import { MAX_RULE_LENGTH } from '../policy/limits.js';
import type { ExpectedAttribute, ExpectedPredicate, Layout } from './types.js';
import { checkKnownFields, describeType, isHex, isObject, join, Problems } from './problems.js';

const PREDICATE_FIELDS = ['predicate_type', 'expected_attributes', 'functionaries'] as const;
const ATTRIBUTE_FIELDS = ['rule', 'allow_if_no_claim', 'warn'] as const;

/**
 * A step's or inspection's `expected_predicates` (evident's extension, the in-toto attestation verifier's
 * `expectedPredicates` in the layout's snake_case): shape only, strictly, every field kept as written since
 * the layout is signed over it. Whether a rule is valid CEL is checked where CEL is loaded (`layout create`,
 * and verification, which fails the rule), so that reading a layout never loads it. An inspection has no
 * pubkeys for `functionaries` to default to: there it is required. Whether each keyid is in the layout's
 * `keys` is checked by the layout.
 */
export function checkExpectedPredicates(
  value: unknown,
  where: string,
  problems: Problems,
  options: { inspection: boolean },
): ExpectedPredicate[] | undefined {
  if (!Array.isArray(value)) {
    problems.add(where, `must be a list of expected predicates, not ${describeType(value)}`);
    return undefined;
  }
  if (value.length === 0) problems.add(where, 'must not be empty (leave expected_predicates out to expect no attestation)');
  const before = problems.size;
  const out = value.map((item, i) => checkPredicate(item, join(where, i), problems, options));
  return problems.size > before ? undefined : (out as ExpectedPredicate[]);
}

function checkPredicate(
  value: unknown,
  where: string,
  problems: Problems,
  options: { inspection: boolean },
): ExpectedPredicate | undefined {
  if (!isObject(value)) {
    problems.add(
      where,
      `an expected predicate is an object {"predicate_type", "expected_attributes", "functionaries"}, not ${describeType(value)}`,
    );
    return undefined;
  }
  checkKnownFields(value, PREDICATE_FIELDS, where, problems);
  const type = value.predicate_type;
  if (typeof type !== 'string' || type === '')
    problems.add(join(where, 'predicate_type'), `must be the predicate type's URI, not ${type === '' ? 'empty' : describeType(type)}`);
  const predicate: ExpectedPredicate = { predicate_type: type as string };
  if (value.expected_attributes !== undefined) {
    const at = join(where, 'expected_attributes');
    if (!Array.isArray(value.expected_attributes))
      problems.add(at, `must be a list of rules, not ${describeType(value.expected_attributes)}`);
    else predicate.expected_attributes = value.expected_attributes.map((a, i) => checkAttribute(a, join(at, i), problems));
  }
  if (value.functionaries !== undefined) {
    const at = join(where, 'functionaries');
    if (!Array.isArray(value.functionaries)) problems.add(at, `must be a list of keyids, not ${describeType(value.functionaries)}`);
    else {
      if (value.functionaries.length === 0) problems.add(at, 'must not be empty (nobody could sign the attestation)');
      value.functionaries.forEach((keyid, i) => {
        if (!isHex(keyid)) problems.add(join(at, i), `must be a keyid (hex), not ${JSON.stringify(keyid) ?? describeType(keyid)}`);
      });
      predicate.functionaries = [...(value.functionaries as string[])];
    }
  } else if (options.inspection) {
    problems.add(
      join(where, 'functionaries'),
      'is missing (an inspection has no functionaries to default to: name the keys that sign the attestation)',
    );
  }
  return predicate;
}

function checkAttribute(value: unknown, where: string, problems: Problems): ExpectedAttribute {
  if (!isObject(value)) {
    problems.add(where, `an expected attribute is an object {"rule", "allow_if_no_claim", "warn"}, not ${describeType(value)}`);
    return value as ExpectedAttribute;
  }
  checkKnownFields(value, ATTRIBUTE_FIELDS, where, problems);
  const rule = value.rule;
  if (typeof rule !== 'string' || rule.trim() === '')
    problems.add(
      join(where, 'rule'),
      `must be a CEL expression, not ${rule === undefined ? 'missing' : typeof rule === 'string' ? 'empty' : describeType(rule)}`,
    );
  else if (rule.length > MAX_RULE_LENGTH)
    problems.add(join(where, 'rule'), `is ${rule.length} characters long, more than the ${MAX_RULE_LENGTH} a rule may have`);
  const attribute: ExpectedAttribute = { rule: rule as string };
  for (const flag of ['allow_if_no_claim', 'warn'] as const) {
    const v = value[flag];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') problems.add(join(where, flag), `must be true or false, not ${describeType(v)}`);
    // kept as written, false too: the layout is signed over it
    else attribute[flag] = v;
  }
  return attribute;
}

/** Every keyid a step's or inspection's expected predicates name must be one of the layout's keys. */
export function checkPredicateFunctionaries(
  items: readonly unknown[],
  keys: Readonly<Record<string, unknown>>,
  where: string,
  problems: Problems,
): void {
  items.forEach((item, i) => {
    if (!isObject(item) || !Array.isArray(item.expected_predicates)) return;
    item.expected_predicates.forEach((p: unknown, j: number) => {
      if (!isObject(p) || !Array.isArray(p.functionaries)) return;
      p.functionaries.forEach((keyid: unknown, k: number) => {
        if (isHex(keyid) && !Object.hasOwn(keys, keyid)) {
          const at = join(join(join(join(join(where, i), 'expected_predicates'), j), 'functionaries'), k);
          problems.add(at, `keyid ${keyid} is not in the layout's keys`);
        }
      });
    });
  });
}

/** Whether any step or inspection of the layout expects attestations (only then is CEL loaded). */
export function expectsAttestations(layout: Pick<Layout, 'steps' | 'inspect'>): boolean {
  return layout.steps.some((s) => s.expected_predicates !== undefined) || layout.inspect.some((i) => i.expected_predicates !== undefined);
}
