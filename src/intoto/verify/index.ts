/** Verifying a supply chain against its layout: the in-toto v1 workflow and its report. */
export { verify, DEFAULT_MAX_LINK_BYTES, DEFAULT_INSPECTION_TIMEOUT_MS } from './verify.js';
export { formatReport, reportToJson } from './report.js';
export { parseSignedMetadata, parseSignedMetadataText } from './metadata.js';
export type { SignedMetadata } from './metadata.js';
export type { Check, CheckId, VerificationReport, VerifyOptions } from './types.js';
