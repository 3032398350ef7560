export {
  WorkloadApiClient,
  fetchX509SVID,
  fetchX509Context,
  fetchX509Bundles,
  fetchJWTSVID,
  fetchJWTBundles,
  validateJWTSVID,
  pickSvid,
  type ClientOptions,
  type SvidPick,
} from './client.js';
export { parseAddress, resolveAddress, SOCKET_ENV, type WorkloadApiAddress } from './address.js';
export { parseX509Context, parseX509Bundles, parseJwtBundles, type X509Context } from './parse.js';
export { WorkloadApiError, type WorkloadApiErrorReason } from './errors.js';
export { type WatchOptions } from './watch.js';
export { type BackoffOptions } from './backoff.js';
export {
  workloadProtoPath,
  workloadApiServiceDefinition,
  workloadApiClientConstructor,
  LOADER_OPTIONS,
  SECURITY_HEADER,
  type X509SVIDMessage,
  type X509SVIDResponseMessage,
  type X509BundlesResponseMessage,
  type JWTSVIDRequestMessage,
  type JWTSVIDMessage,
  type JWTSVIDResponseMessage,
  type JWTBundlesResponseMessage,
  type ValidateJWTSVIDRequestMessage,
  type ValidateJWTSVIDResponseMessage,
} from './proto.js';
export { toStruct, fromStruct, type ProtoStruct, type ProtoValue, type Json } from './struct.js';
