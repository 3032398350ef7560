import type { ExpectedVsa, HashDict } from '../models/types.js';
import { durationMs } from './expires.js';
import type { At, SpecReader } from './spec-reader.js';

const VSA_KEYS = ['policy', 'verifier_id', 'resource_uri', 'verified_levels', 'max_age'] as const;
const DIGEST = /^sha(256|384|512):([0-9a-f]+)$/;
const HEX_LENGTH: Record<string, number> = { '256': 64, '384': 96, '512': 128 };

/**
 * A policy the spec names by its file (`policy: ../team-a/root.layout`), whose sha256 compile.ts reads
 * once the items are compiled (files are read asynchronously) and writes at `index` of `into`.
 */
export interface SpecPolicyFile {
  readonly at: At;
  readonly file: string;
  readonly into: HashDict[];
  readonly index: number;
}

/**
 * A step's `vsa:` (docs/policy.md, "A VSA as a step's evidence"): the step's evidence is another team's
 * signed SLSA Verification Summary, not links. `vsa: true` takes any VSA by the step's functionaries that
 * says PASSED; a mapping pins what it must say:
 *
 *     vsa:
 *       policy: ../team-a/root.layout     # the layout it followed: a file (its sha256), sha256:HEX, or a list
 *       verifier_id: spiffe://a.example/verifier
 *       resource_uri: pkg:generic/libz.tar
 *       verified_levels: [EVIDENT_LAYOUT_VERIFIED]
 *       max_age: 7d                       # a duration (w, d, h, m) after its timeVerified
 *
 * Policy files are collected in `files`, to be hashed by the caller.
 */
export function compileVsa(reader: SpecReader, at: At, files: SpecPolicyFile[]): ExpectedVsa | undefined {
  if (!reader.isMapping(at)) {
    const on = reader.boolean(
      at,
      'true, or a mapping of what the VSA must say: policy, verifier_id, resource_uri, verified_levels, max_age',
    );
    if (on === false) reader.report(at, 'leave vsa out for a step whose evidence is links');
    return on === true ? {} : undefined;
  }
  const fields = reader.map(at, VSA_KEYS, 'what the VSA must say: policy, verifier_id, resource_uri, verified_levels, max_age');
  if (fields === undefined) return undefined;
  const out: ExpectedVsa = {};
  const policyAt = fields.get('policy');
  if (policyAt !== undefined) {
    const items = reader.isScalarString(policyAt) ? [policyAt] : (reader.seq(policyAt, 'of layout files or sha256:HEX digests') ?? []);
    if (items.length === 0) reader.report(policyAt, 'is empty: name the layout (a file, or sha256:HEX) the verification followed');
    const policy: HashDict[] = [];
    for (const item of items) {
      const text = reader.string(item, 'a layout file, or its digest sha256:HEX');
      if (text === undefined) continue;
      const digest = DIGEST.exec(text);
      if (digest !== null) {
        const [, bits, hex] = digest as unknown as [string, string, string];
        if (hex.length !== HEX_LENGTH[bits]) reader.report(item, `sha${bits} is ${HEX_LENGTH[bits]} hex digits, not ${hex.length}`);
        else policy.push({ [`sha${bits}`]: hex });
      } else {
        files.push({ at: item, file: text, into: policy, index: policy.length });
        policy.push({});
      }
    }
    out.policy = policy;
  }
  for (const field of ['verifier_id', 'resource_uri'] as const) {
    const fieldAt = fields.get(field);
    if (fieldAt === undefined) continue;
    const text = reader.string(fieldAt, field === 'verifier_id' ? "the verifier's URI (verifier.id)" : 'the resource URI (resourceUri)');
    if (text === '') reader.report(fieldAt, 'must not be empty');
    else if (text !== undefined) out[field] = text;
  }
  const levelsAt = fields.get('verified_levels');
  if (levelsAt !== undefined) {
    const levels = (reader.seq(levelsAt, 'of levels such as EVIDENT_LAYOUT_VERIFIED') ?? []).map((l) => reader.string(l, 'a level') ?? '');
    if (levels.length === 0) reader.report(levelsAt, 'is empty: leave verified_levels out to require no level');
    else out.verified_levels = levels;
  }
  const ageAt = fields.get('max_age');
  if (ageAt !== undefined) {
    const text = reader.string(ageAt, 'a duration such as 7d or 12h');
    const ms = text === undefined ? undefined : durationMs(text.trim());
    if (text !== undefined && ms === undefined)
      reader.report(ageAt, `${JSON.stringify(text)} is not a duration (7d, 12h, 30m; units w, d, h, m)`);
    else if (ms === 0) reader.report(ageAt, 'a max_age of zero would refuse every VSA');
    else if (ms !== undefined && !Number.isSafeInteger(ms / 1000)) reader.report(ageAt, `${text} is longer than any VSA will live`);
    else if (ms !== undefined) out.max_age = ms / 1000;
  }
  return out;
}
