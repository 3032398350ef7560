import { X509Certificate } from 'node:crypto';
import type { Inspection, Layout, Step } from './types.js';
import type { KeyDict } from '../../crypto/key-dict.js';
import { checkStep } from './step.js';
import { checkInspection } from './inspection.js';
import { checkKeyDicts } from './layout-keys.js';
import { checkPredicateFunctionaries } from './expected-predicates.js';
import { timestampAuthorityProblem } from './timestamp-authorities.js';
import { expiresProblem } from './expires.js';
import { checkKnownFields, describeType, isObject, join, Problems, stringField } from './problems.js';

const LAYOUT_FIELDS = [
  '_type',
  'expires',
  'readme',
  'keys',
  'steps',
  'inspect',
  'rootcas',
  'intermediatecas',
  'timestampauthorities',
] as const;

/**
 * Validates a layout's `signed` part strictly: unknown fields, wrong types, a malformed rule or
 * `expires`, a threshold below 1, duplicate step/inspection names, a key listed under a keyid that is not its
 * own. A step's `pubkeys` may name a keyid missing from `keys`: both references accept that, and verification
 * ignores it (thresholds count the keys that exist). Defaults are the reference's (`keys` {},
 * `readme` ""); `steps`, `inspect` and `expires` are required. in-toto-golang's `rootcas`,
 * `intermediatecas` and `cert_constraints`, and evident's `timestampauthorities` (CA certificates, each
 * able to issue a TSA's) and steps' `require_timestamps` (only with time-stamping authorities to check
 * the tokens against), and steps' and inspections' `expected_predicates` (attestation rules, whose
 * functionaries must be among `keys`), are accepted and kept only when present.
 *
 * @throws ValidationError (code BAD_INPUT) listing every problem, one per line:
 *   `steps[1].expected_materials[0]: MATCH needs WITH MATERIALS|PRODUCTS …`
 */
export function parseLayout(value: unknown, file?: string): Layout {
  const problems = new Problems();
  const layout = checkLayout(value, '', problems);
  problems.throwIfAny(file);
  return layout as Layout;
}

export function checkLayout(value: unknown, where: string, problems: Problems): Layout | undefined {
  if (!isObject(value)) {
    problems.add(where, `a layout is a JSON object, not ${describeType(value)}`);
    return undefined;
  }
  const before = problems.size;
  checkKnownFields(value, LAYOUT_FIELDS, where, problems);
  if (value._type !== 'layout') problems.add(join(where, '_type'), `must be "layout", not ${JSON.stringify(value._type) ?? 'missing'}`);
  const expires = stringField(value, 'expires', where, problems, { required: true });
  if (expires !== undefined) {
    const bad = expiresProblem(expires);
    if (bad) problems.add(join(where, 'expires'), bad);
  }
  const readme = value.readme === undefined ? '' : stringField(value, 'readme', where, problems);
  const keys = checkKeyDicts(value.keys, join(where, 'keys'), problems);
  const rootcas =
    value.rootcas === undefined ? undefined : checkKeyDicts(value.rootcas, join(where, 'rootcas'), problems, { certificates: true });
  const intermediatecas =
    value.intermediatecas === undefined
      ? undefined
      : checkKeyDicts(value.intermediatecas, join(where, 'intermediatecas'), problems, { certificates: true });
  const timestampauthorities =
    value.timestampauthorities === undefined
      ? undefined
      : checkTimestampAuthorities(value.timestampauthorities, join(where, 'timestampauthorities'), problems);
  const steps = checkList(value.steps, join(where, 'steps'), 'steps', problems, checkStep);
  const inspect = checkList(value.inspect, join(where, 'inspect'), 'inspections', problems, checkInspection);
  checkNames(value, where, problems);
  for (const field of ['steps', 'inspect'] as const) {
    const items = value[field];
    if (Array.isArray(items) && keys !== undefined) checkPredicateFunctionaries(items, keys, join(where, field), problems);
  }
  const trustsNoTsa =
    value.timestampauthorities === undefined || (timestampauthorities !== undefined && Object.keys(timestampauthorities).length === 0);
  if (Array.isArray(value.steps) && trustsNoTsa) {
    checkTimestampsCanBeChecked(value.steps, join(where, 'steps'), problems);
  }
  if (problems.size > before) return undefined;
  const layout: Layout = {
    _type: 'layout',
    expires: expires as string,
    readme: readme as string,
    keys: keys as Record<string, KeyDict>,
    steps: steps as Step[],
    inspect: inspect as Inspection[],
  };
  if (rootcas !== undefined) layout.rootcas = rootcas;
  if (intermediatecas !== undefined) layout.intermediatecas = intermediatecas;
  if (timestampauthorities !== undefined) layout.timestampauthorities = timestampauthorities;
  return layout;
}

/** As `rootcas`, and each certificate a CA that may issue a TSA's certificate (timestamp-authorities.ts). */
function checkTimestampAuthorities(value: unknown, where: string, problems: Problems): Record<string, KeyDict> | undefined {
  const dicts = checkKeyDicts(value, where, problems, { certificates: true });
  if (dicts === undefined) return undefined;
  const before = problems.size;
  for (const [keyid, dict] of Object.entries(dicts)) {
    // checkKeyDicts has parsed it: a certificate that cannot be read is already a problem
    const problem = timestampAuthorityProblem(new X509Certificate(dict.keyval.certificate!));
    if (problem !== undefined) problems.add(join(`${where}[${JSON.stringify(keyid)}]`, 'keyval.certificate'), problem);
  }
  return problems.size > before ? undefined : dicts;
}

/** A step that requires timestamps in a layout trusting no TSA could never be signed off: refused when written. */
function checkTimestampsCanBeChecked(steps: unknown[], where: string, problems: Problems): void {
  steps.forEach((step, i) => {
    if (isObject(step) && step.require_timestamps === true) {
      problems.add(
        join(join(where, i), 'require_timestamps'),
        'the layout trusts no time-stamping authority (timestampauthorities) to check the tokens against',
      );
    }
  });
}

function checkList<T>(
  value: unknown,
  where: string,
  what: string,
  problems: Problems,
  check: (item: unknown, where: string, problems: Problems) => T | undefined,
): T[] | undefined {
  if (value === undefined) {
    problems.add(where, `is missing (a list of ${what}, possibly empty)`);
    return undefined;
  }
  if (!Array.isArray(value)) {
    problems.add(where, `must be a list of ${what}, not ${describeType(value)}`);
    return undefined;
  }
  const items = value.map((item, i) => check(item, join(where, i), problems));
  return items.every((item) => item !== undefined) ? (items as T[]) : undefined;
}

/** Step and inspection names share one namespace: each names the link files verification looks for. */
function checkNames(value: Record<string, unknown>, where: string, problems: Problems): void {
  const seen = new Map<string, string>();
  for (const field of ['steps', 'inspect'] as const) {
    const list = value[field];
    if (!Array.isArray(list)) continue;
    list.forEach((item, i) => {
      if (!isObject(item) || typeof item.name !== 'string') return;
      const at = join(join(where, field), i);
      const first = seen.get(item.name);
      if (first !== undefined)
        problems.add(join(at, 'name'), `'${item.name}' is already the name of ${first}; step and inspection names must be unique`);
      else seen.set(item.name, at);
    });
  }
}
