/**
 * in-toto, wire-compatible with the references: metadata models (parse, validate, sign, serialize), the
 * layout spec compiler, recording a step (`runStep`, `recordStart`/`recordStop`, `collectArtifacts`; RFC 3161
 * tokens on new signatures with `timestampSignatures` or their `timestamps` option), the
 * artifact-rule engine, and verification of a supply chain against its layout with its report.
 *
 * @example
 * import { verify, formatReport } from 'evident/intoto';
 * const report = await verify({ layout, layoutKeys: [ownerKey], linkDir: 'links' });
 * console.log(formatReport(report));
 */
export type {
  ArtifactDict,
  ArtifactRule,
  CertificateConstraint,
  ExpectedAttribute,
  ExpectedPredicate,
  ExpectedVsa,
  HashDict,
  Inspection,
  Layout,
  Link,
  Metablock,
  RuleTokens,
  Signature,
  Step,
} from './models/types.js';
export { parseRule, parseRuleString, ruleToTokens, checkRule } from './models/rule.js';
export { shellSplit, shellJoin } from './models/shell-split.js';
export { parseLink, linkFileName } from './models/link.js';
export { parseLayout } from './models/layout.js';
export { expiresProblem, parseExpires, formatExpires } from './models/expires.js';
export {
  loadMetadataFile,
  parseMetadata,
  signedOf,
  signMetablock,
  verifyMetablockSignature,
  signableBytes,
  verifyMetadataSignature,
  signLinkEnvelope,
  serializeMetablock,
  serializeEnvelope,
  writeMetadataFile,
  DEFAULT_MAX_METADATA_BYTES,
} from './models/metablock.js';
export type { MetadataFile } from './models/metablock.js';
export { IN_TOTO_PAYLOAD_TYPE, STATEMENT_V1_TYPE, LINK_PREDICATE_V03, linkToStatement } from './models/statement-link.js';
export { pythonJsonDumps } from './models/python-json.js';
export { Problems, ValidationError, errorLines } from './models/problems.js';
export { compileLayoutSpec } from './layout-spec/compile.js';
export type { CompileOptions } from './layout-spec/compile.js';
export { artifactNameProblem } from './models/artifact-name.js';

export {
  verify,
  formatReport,
  reportToJson,
  parseSignedMetadata,
  parseSignedMetadataText,
  DEFAULT_MAX_LINK_BYTES,
  DEFAULT_INSPECTION_TIMEOUT_MS,
} from './verify/index.js';
export type { Check, CheckId, SignedMetadata, VerificationReport, VerifyOptions } from './verify/index.js';

export { collectArtifacts, compileExcludes, DEFAULT_EXCLUDE_PATTERNS, pyNormpath, runCommand } from './record/index.js';
export type { ArtifactMap, Byproducts, CollectOptions, ExcludeMatcher, RunCommandOptions, TeeTarget } from './record/index.js';
export { runStep, type RunStepOptions, type StepResult } from './runlib/run-step.js';
export { recordStart, recordStop } from './runlib/record-step.js';
export type { SignerIdentity } from './runlib/record-preliminary.js';
export { writeSignedLink, type LinkFormat } from './runlib/link-output.js';
export { timestampSignatures, type SignatureTimestamping } from './runlib/timestamp-signatures.js';

export { applyArtifactRules, compileFnmatch, fnmatch, indexArtifacts, sameHashes } from './rules/index.js';
export type {
  ApplyRulesInput,
  ArtifactIndex,
  ArtifactType,
  ItemRulesResult,
  LinkArtifacts,
  MatchMiss,
  NameMatcher,
  RuleFailure,
  RuleResult,
} from './rules/index.js';
