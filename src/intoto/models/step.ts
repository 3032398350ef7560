import type { CertificateConstraint, Step } from './types.js';
import { checkItemCommon, checkType } from './supply-chain-item.js';
import { checkExpectedPredicates } from './expected-predicates.js';
import { checkExpectedVsa } from './expected-vsa.js';
import { checkKnownFields, describeType, isHex, isObject, join, Problems, stringList } from './problems.js';

const STEP_FIELDS = [
  '_type',
  'name',
  'expected_materials',
  'expected_products',
  'pubkeys',
  'expected_command',
  'threshold',
  'cert_constraints',
  'require_timestamps',
  'expected_predicates',
  'expected_vsa',
] as const;
const CONSTRAINT_FIELDS = ['common_name', 'dns_names', 'emails', 'organizations', 'roots', 'uris'] as const;

/**
 * Validates one step of a layout; defaults as the reference's: rules [], `pubkeys` [],
 * `expected_command` [], `threshold` 1. `cert_constraints` is in-toto-golang's extension (kept only when
 * present), as are evident's `require_timestamps` (a boolean), `expected_predicates` (attestation rules,
 * expected-predicates.ts) and `expected_vsa` (a VSA as the step's evidence, expected-vsa.ts). Whether each pubkey is in the layout's
 * `keys`, and whether the layout trusts a TSA when a step requires timestamps, is checked by the layout.
 */
export function checkStep(value: unknown, where: string, problems: Problems): Step | undefined {
  if (!isObject(value)) {
    problems.add(where, `a step is an object, not ${describeType(value)}`);
    return undefined;
  }
  const before = problems.size;
  checkKnownFields(value, STEP_FIELDS, where, problems);
  checkType(value, 'step', where, problems);
  const common = checkItemCommon(value, where, problems);
  const pubkeys = value.pubkeys === undefined ? [] : stringList(value.pubkeys, join(where, 'pubkeys'), problems);
  pubkeys?.forEach((keyid, i) => {
    if (!isHex(keyid)) problems.add(join(join(where, 'pubkeys'), i), `must be a keyid (hex), not ${JSON.stringify(keyid)}`);
  });
  const command = value.expected_command === undefined ? [] : stringList(value.expected_command, join(where, 'expected_command'), problems);
  const threshold = value.threshold === undefined ? 1 : value.threshold;
  if (typeof threshold !== 'number' || !Number.isInteger(threshold)) {
    problems.add(join(where, 'threshold'), `must be an integer, not ${describeType(threshold)}`);
  } else if (threshold < 1) {
    problems.add(join(where, 'threshold'), `must be at least 1, not ${threshold} (a step needs evidence from someone)`);
  }
  const constraints =
    value.cert_constraints === undefined ? undefined : checkConstraints(value.cert_constraints, join(where, 'cert_constraints'), problems);
  const requireTimestamps = value.require_timestamps;
  if (requireTimestamps !== undefined && typeof requireTimestamps !== 'boolean')
    problems.add(join(where, 'require_timestamps'), `must be true or false, not ${describeType(requireTimestamps)}`);
  const predicates =
    value.expected_predicates === undefined
      ? undefined
      : checkExpectedPredicates(value.expected_predicates, join(where, 'expected_predicates'), problems, { inspection: false });
  const vsa = value.expected_vsa === undefined ? undefined : checkExpectedVsa(value.expected_vsa, join(where, 'expected_vsa'), problems);
  if (vsa !== undefined && command !== undefined && command.length > 0)
    problems.add(join(where, 'expected_command'), 'must be empty: a step whose evidence is a VSA (expected_vsa) runs no command');
  if (problems.size > before) return undefined;
  const step: Step = {
    _type: 'step',
    name: common.name as string,
    threshold: threshold as number,
    expected_materials: common.expected_materials as string[][],
    expected_products: common.expected_products as string[][],
    pubkeys: pubkeys as string[],
    expected_command: command as string[],
  };
  if (constraints !== undefined) step.cert_constraints = constraints;
  // kept as written, false too: the layout is signed over it
  if (requireTimestamps !== undefined) step.require_timestamps = requireTimestamps as boolean;
  if (predicates !== undefined) step.expected_predicates = predicates;
  if (vsa !== undefined) step.expected_vsa = vsa;
  return step;
}

/** Shape only: every field present (in-toto-golang signs all six), `common_name` a string, the rest lists. */
function checkConstraints(value: unknown, where: string, problems: Problems): CertificateConstraint[] | undefined {
  if (!Array.isArray(value)) {
    problems.add(where, `must be a list of certificate constraints, not ${describeType(value)}`);
    return undefined;
  }
  return value.map((c, i): CertificateConstraint => {
    const at = join(where, i);
    if (!isObject(c)) {
      problems.add(at, `a certificate constraint is an object, not ${describeType(c)}`);
      return c as CertificateConstraint;
    }
    checkKnownFields(c, CONSTRAINT_FIELDS, at, problems);
    for (const field of CONSTRAINT_FIELDS) {
      if (c[field] === undefined) problems.add(join(at, field), 'is missing ("*" allows any value, [] none)');
      else if (field === 'common_name') {
        if (typeof c[field] !== 'string') problems.add(join(at, field), `must be a string, not ${describeType(c[field])}`);
      } else stringList(c[field], join(at, field), problems);
    }
    return {
      common_name: c.common_name as string,
      dns_names: c.dns_names as string[],
      emails: c.emails as string[],
      organizations: c.organizations as string[],
      roots: c.roots as string[],
      uris: c.uris as string[],
    };
  });
}
