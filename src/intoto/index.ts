/** in-toto metadata: models (parse, validate, sign, serialize) and the layout spec compiler. */
export type {
  ArtifactDict,
  ArtifactRule,
  CertificateConstraint,
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
