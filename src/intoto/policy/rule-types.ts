import type { CelType } from '@bufbuild/cel';

/**
 * The types the rule checker (rule-check.ts) reasons with: CEL's, plus records, the maps whose keys are
 * known (`signer`, a subject), so that `signer.spifeId` is refused when the layout is written rather than
 * failing every verification. At run time a record is an ordinary CEL map.
 */
export type RuleType =
  | { readonly kind: 'dyn' | 'bool' | 'int' | 'uint' | 'double' | 'string' | 'bytes' | 'null' | 'timestamp' | 'duration' | 'type' }
  | { readonly kind: 'list'; readonly element: RuleType }
  | { readonly kind: 'map'; readonly key: RuleType; readonly value: RuleType }
  | { readonly kind: 'record'; readonly name: string; readonly fields: Readonly<Record<string, RuleType>> };

type ScalarKind = Exclude<RuleType['kind'], 'list' | 'map' | 'record'>;

const scalars = new Map<ScalarKind, RuleType>();
export function scalar(kind: ScalarKind): RuleType {
  let t = scalars.get(kind);
  if (t === undefined) {
    t = { kind };
    scalars.set(kind, t);
  }
  return t;
}

export const DYN = scalar('dyn');
export const BOOL = scalar('bool');
export const STRING = scalar('string');

export function listOf(element: RuleType): RuleType {
  return { kind: 'list', element };
}

export function mapOf(key: RuleType, value: RuleType): RuleType {
  return { kind: 'map', key, value };
}

export function record(name: string, fields: Record<string, RuleType>): RuleType {
  return { kind: 'record', name, fields };
}

/** As CEL names types in messages: `list(string)`, `map(string, dyn)`; a record by its name. */
export function typeName(t: RuleType): string {
  switch (t.kind) {
    case 'list':
      return `list(${typeName(t.element)})`;
    case 'map':
      return `map(${typeName(t.key)}, ${typeName(t.value)})`;
    case 'record':
      return t.name;
    case 'timestamp':
      return 'google.protobuf.Timestamp';
    case 'duration':
      return 'google.protobuf.Duration';
    case 'null':
      return 'null_type';
    default:
      return t.kind;
  }
}

/**
 * Whether a value of type `actual` may be passed where `expected` is declared. `dyn` on either side is
 * decided at run time; a record is a map with string keys.
 */
export function assignable(expected: RuleType, actual: RuleType): boolean {
  if (expected.kind === 'dyn' || actual.kind === 'dyn') return true;
  switch (expected.kind) {
    case 'list':
      return actual.kind === 'list' && assignable(expected.element, actual.element);
    case 'map':
      if (actual.kind === 'map') return assignable(expected.key, actual.key) && assignable(expected.value, actual.value);
      return (
        actual.kind === 'record' &&
        assignable(expected.key, STRING) &&
        Object.values(actual.fields).every((f) => assignable(expected.value, f))
      );
    case 'record':
      return actual.kind === 'record' && actual.name === expected.name;
    default:
      return expected.kind === actual.kind;
  }
}

/** The one type of several values (list elements, both branches of `?:`), else dyn. */
export function join(types: readonly RuleType[]): RuleType {
  if (types.length === 0) return DYN;
  const [first, ...rest] = types as [RuleType, ...RuleType[]];
  return rest.every((t) => same(t, first)) ? first : DYN;
}

export function same(a: RuleType, b: RuleType): boolean {
  return typeName(a) === typeName(b);
}

/** A type of @bufbuild/cel's function table, for overload resolution. */
export function fromCelType(t: CelType): RuleType {
  switch (t.kind) {
    case 'list':
      return listOf(fromCelType(t.element));
    case 'map':
      return mapOf(fromCelType(t.key), fromCelType(t.value));
    case 'object':
      if (t.name === 'google.protobuf.Timestamp') return scalar('timestamp');
      if (t.name === 'google.protobuf.Duration') return scalar('duration');
      return DYN;
    case 'scalar':
      return t.name === 'null_type' ? scalar('null') : scalar(t.name as ScalarKind);
  }
}
