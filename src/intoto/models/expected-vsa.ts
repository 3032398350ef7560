import type { ExpectedVsa, HashDict } from './types.js';
import { checkKnownFields, describeType, isObject, join, Problems } from './problems.js';

/** SLSA Verification Summary Attestation v1 (slsa.dev/spec/v1.0/verification_summary): the predicate a VSA step's evidence carries. */
export const SLSA_VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';

const VSA_FIELDS = ['policy', 'verifier_id', 'resource_uri', 'verified_levels', 'max_age'] as const;
/** A DigestSet's algorithm name (`sha256`, `sha512`, `gitCommit`…) and its lowercase hex value. */
const ALGORITHM = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const HEX = /^[0-9a-f]{8,256}$/;

/**
 * A step's `expected_vsa` (evident's extension, docs/policy.md): the step's evidence is a signed SLSA
 * Verification Summary of another team's verification instead of links; each field pins what the VSA must
 * say. Shape only, strictly, every field kept as written since the layout is signed over it:
 *
 *     "expected_vsa": {"policy": [{"sha256": "…"}], "verifier_id": "spiffe://…", "resource_uri": "pkg:generic/lib.tar",
 *                      "verified_levels": ["EVIDENT_LAYOUT_VERIFIED"], "max_age": 604800}
 *
 * `policy` lists the digests of the policies (layouts) the verification may have followed (several, so a
 * layout can be renewed without a gap); `max_age` is in seconds. A step that takes a VSA runs no command:
 * a non-empty `expected_command` beside it is refused (checkStep).
 */
export function checkExpectedVsa(value: unknown, where: string, problems: Problems): ExpectedVsa | undefined {
  if (!isObject(value)) {
    problems.add(
      where,
      `must be an object {"policy", "verifier_id", "resource_uri", "verified_levels", "max_age"}, not ${describeType(value)}`,
    );
    return undefined;
  }
  const before = problems.size;
  checkKnownFields(value, VSA_FIELDS, where, problems);
  const out: ExpectedVsa = {};
  if (value.policy !== undefined) {
    const at = join(where, 'policy');
    if (!Array.isArray(value.policy) || value.policy.length === 0)
      problems.add(at, `must be a non-empty list of digest sets ({"sha256": hex}), not ${describeType(value.policy)}`);
    else out.policy = value.policy.map((d, i) => checkDigestSet(d, join(at, i), problems));
  }
  for (const field of ['verifier_id', 'resource_uri'] as const) {
    const v = value[field];
    if (v === undefined) continue;
    if (v === '') problems.add(join(where, field), 'must not be empty');
    else if (typeof v !== 'string') problems.add(join(where, field), `must be a string, not ${describeType(v)}`);
    else out[field] = v;
  }
  if (value.verified_levels !== undefined) {
    const at = join(where, 'verified_levels');
    const levels = value.verified_levels;
    if (!Array.isArray(levels) || levels.length === 0) problems.add(at, `must be a non-empty list of levels, not ${describeType(levels)}`);
    else {
      levels.forEach((l, i) => {
        if (typeof l !== 'string' || l === '') problems.add(join(at, i), `must be a level (text), not ${describeType(l)}`);
      });
      out.verified_levels = [...(levels as string[])];
    }
  }
  if (value.max_age !== undefined) {
    const age = value.max_age;
    if (typeof age !== 'number' || !Number.isSafeInteger(age) || age < 1)
      problems.add(
        join(where, 'max_age'),
        `must be a whole number of seconds, at least 1, not ${typeof age === 'number' ? age : describeType(age)}`,
      );
    else out.max_age = age;
  }
  return problems.size > before ? undefined : out;
}

function checkDigestSet(value: unknown, where: string, problems: Problems): HashDict {
  if (!isObject(value) || Object.keys(value).length === 0) {
    problems.add(where, `must be a digest set {"sha256": hex}, not ${describeType(value)}`);
    return {};
  }
  const out: HashDict = {};
  for (const [alg, hex] of Object.entries(value)) {
    if (!ALGORITHM.test(alg)) problems.add(where, `${JSON.stringify(alg.slice(0, 40))} is not a digest algorithm name`);
    else if (typeof hex !== 'string' || !HEX.test(hex)) problems.add(join(where, alg), 'must be a lowercase hex digest');
    else out[alg] = hex;
  }
  return out;
}
