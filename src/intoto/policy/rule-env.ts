import { CelScalar, celEnv, type CelEnv, type CelInput } from '@bufbuild/cel';
import { appendConcat } from './append-list.js';
import { DYN, listOf, mapOf, record, scalar, STRING, type RuleType } from './rule-types.js';

const DIGESTS = mapOf(STRING, STRING);

/** An in-toto ResourceDescriptor as a Statement's subject carries it (fields it lacks are absent). */
const RESOURCE_DESCRIPTOR = record('ResourceDescriptor', {
  name: STRING,
  uri: STRING,
  digest: DIGESTS,
  content: DYN,
  downloadLocation: STRING,
  mediaType: STRING,
  annotations: DYN,
});

/**
 * What a rule sees (docs/policy.md): the verified Statement (`subject`, `predicateType`, `predicate`, the
 * names the in-toto attestation verifier uses) and the step's context: its link's `materials` and
 * `products` (path → digests), who signed the attestation (`signer.keyid`, and `signer.spiffeId` for a
 * certificate signer, else null), and when (`timestamp`: the genTime of a valid RFC 3161 token on its
 * signature from a TSA the layout trusts, else null).
 */
export const RULE_VARIABLES: ReadonlyMap<string, RuleType> = new Map<string, RuleType>([
  ['subject', listOf(RESOURCE_DESCRIPTOR)],
  ['predicateType', STRING],
  ['predicate', DYN],
  ['materials', mapOf(STRING, DIGESTS)],
  ['products', mapOf(STRING, DIGESTS)],
  ['signer', record('signer', { keyid: STRING, spiffeId: STRING })],
  ['timestamp', scalar('timestamp')],
]);

/** What a rule is evaluated over: variable name → value (JSON values, Maps, a Timestamp message). */
export type RuleBindings = Record<string, CelInput>;

let env: CelEnv | undefined;

/**
 * The evaluation environment: CEL's standard functions (list concatenation replaced, append-list.ts),
 * every variable declared dyn (their types are the checker's business; values are converted as they are
 * read, so a rule touching one field of a large predicate converts only that field).
 */
export function ruleEnv(): CelEnv {
  env ??= celEnv({
    variables: Object.fromEntries([...RULE_VARIABLES.keys()].map((name) => [name, CelScalar.DYN])),
    funcs: [appendConcat],
  });
  return env;
}
