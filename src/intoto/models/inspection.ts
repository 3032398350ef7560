import type { Inspection } from './types.js';
import { checkItemCommon, checkType } from './supply-chain-item.js';
import { checkKnownFields, describeType, isObject, join, Problems, stringList } from './problems.js';

const INSPECTION_FIELDS = ['_type', 'name', 'expected_materials', 'expected_products', 'run'] as const;

/** Validates one inspection of a layout; defaults as the reference's: rules [], `run` []. */
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
  if (problems.size > before) return undefined;
  return {
    _type: 'inspection',
    name: common.name as string,
    expected_materials: common.expected_materials as string[][],
    expected_products: common.expected_products as string[][],
    run: run as string[],
  };
}
