import type { RuleTokens } from './types.js';
import { checkRule } from './rule.js';
import { describeType, join, nameProblem, Problems, stringField, type JsonObject } from './problems.js';

/** The parts steps and inspections share: a file-safe name and the two rule lists. */
export function checkItemCommon(
  value: JsonObject,
  where: string,
  problems: Problems,
): { name: string | undefined; expected_materials: RuleTokens[] | undefined; expected_products: RuleTokens[] | undefined } {
  const name = stringField(value, 'name', where, problems, { required: true });
  if (name !== undefined) {
    const bad = nameProblem(name);
    if (bad) problems.add(join(where, 'name'), bad);
  }
  return {
    name,
    expected_materials: checkRules(value.expected_materials, join(where, 'expected_materials'), problems),
    expected_products: checkRules(value.expected_products, join(where, 'expected_products'), problems),
  };
}

/** A list of rules, each kept as written (the layout's signature covers the exact tokens). */
export function checkRules(value: unknown, where: string, problems: Problems): RuleTokens[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add(where, `must be a list of rules, not ${describeType(value)}`);
    return undefined;
  }
  let ok = true;
  value.forEach((tokens, i) => {
    if (checkRule(tokens, join(where, i), problems) === undefined) ok = false;
  });
  return ok ? (value as string[][]).map((tokens) => [...tokens]) : undefined;
}

export function checkType(value: JsonObject, expected: string, where: string, problems: Problems): void {
  // The reference overwrites `_type` of steps and inspections; a present but wrong one is a mistake.
  if (value._type !== undefined && value._type !== expected) {
    problems.add(join(where, '_type'), `must be "${expected}", not ${JSON.stringify(value._type)}`);
  }
}
