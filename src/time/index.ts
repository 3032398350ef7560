/**
 * Trusted time: an RFC 3161 time-stamping authority, its client and the verifier of its tokens
 * (docs/trusted-time.md).
 *
 * - `TimestampAuthority`: a DER TimeStampReq in, a DER TimeStampResp out, signed with a key whose
 *   certificate has the critical timeStamping extended key usage; `tsaRequestHandler` and
 *   `startTsaServer` serve it over HTTP (`POST /tsa`); `TsaWorkerPool` runs authorities on worker
 *   threads, for a TSA that must use more than one core.
 * - `requestTimestamp(url, data)`: asks a TSA to time-stamp bytes (a signature) and returns the token.
 * - `verifyTimestampToken(token, data, roots)`: says when the TSA saw the data, or which check failed.
 */
export { DEFAULT_TSA_POLICY, TimestampAuthority } from './authority.js';
export type { TimestampAuthorityOptions } from './authority.js';
export { requestTimestamp } from './client.js';
export type { TimestampRequestOptions } from './client.js';
export {
  DEFAULT_MAX_REQUEST_BYTES,
  parseHostPort,
  startTsaServer,
  TIMESTAMP_QUERY,
  TIMESTAMP_REPLY,
  TSA_PATH,
  tsaRequestHandler,
} from './http.js';
export type { TsaHandlerOptions, TsaServer, TsaServerOptions } from './http.js';
export type { HashName } from './algorithms.js';
export { loadCertificateChain, loadTsaSigner } from './signer-files.js';
export type { TsaSigner } from './token-signer.js';
export { tsaCertificateProblem, tsaSigner } from './tsa-certificate.js';
export { verifyTimestampToken } from './verify.js';
export { TsaWorkerPool } from './worker-pool.js';
export type { TimestampResponder } from './worker-pool.js';
export type {
  TimestampFailure,
  TimestampFailureReason,
  TimestampVerification,
  TimestampVerifyOptions,
  VerifiedTimestamp,
} from './verify.js';
