/** The artifact-rule engine: Python-fnmatch patterns and the reference's queue of artifacts. */
export { fnmatch, compileFnmatch, fnmatchRegExp } from './fnmatch.js';
export type { NameMatcher } from './fnmatch.js';
export { applyArtifactRules, indexArtifacts, sameHashes } from './apply.js';
export { compareCodePoints } from '../../util/code-points.js';
export type { ApplyRulesInput } from './apply.js';
export type {
  ArtifactIndex,
  ArtifactType,
  DigestComparison,
  ItemRulesResult,
  LinkArtifacts,
  MatchMiss,
  RuleFailure,
  RuleResult,
} from './types.js';
