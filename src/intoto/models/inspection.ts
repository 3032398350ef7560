import type { Inspection } from './types.js';
import { checkItemCommon, checkType } from './supply-chain-item.js';
import { checkExpectedPredicates } from './expected-predicates.js';
import { checkKnownFields, describeType, isObject, join, Problems, stringList } from './problems.js';

const INSPECTION_FIELDS = ['_type', 'name', 'expected_materials', 'expected_products', 'run', 'expected_predicates'] as const;

/**
 * Validates one inspection of a layout; defaults as the reference's: rules [], `run` []. evident's
 * `expected_predicates` (expected-predicates.ts) is kept only when present.
 */
export function checkInspection(value: unknown, where: string, problems: Problems): Inspection | undefined {
  if (!isObject(value)) {
    problems.add(where, `an inspection is an object, not ${describeType(value)}`);
    return undefined;
  }
  const before = problems.size;
  checkKnownFields(value, INSPECTION_FIELDS, where, problems);
  checkType(value, 'inspection', where, problems);
  const common = checkItemCommon(value, where, problems);
  const run = value.run === undefined ? [] : stringList(value.run, join(where, 'run'), problems);
  const predicates =
    value.expected_predicates === undefined
      ? undefined
      : checkExpectedPredicates(value.expected_predicates, join(where, 'expected_predicates'), problems, { inspection: true });
  if (problems.size > before) return undefined;
  const inspection: Inspection = {
    _type: 'inspection',
    name: common.name as string,
    expected_materials: common.expected_materials as string[][],
    expected_products: common.expected_products as string[][],
    run: run as string[],
  };
  if (predicates !== undefined) inspection.expected_predicates = predicates;
  return inspection;
}
