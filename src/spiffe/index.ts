/**
 * The SPIFFE library, one area per go-spiffe package: IDs (`spiffeid`), X.509-SVIDs and the one certificate
 * issuer (`x509svid`), JWT-SVIDs (`jwtsvid`), trust bundles (`bundle`), and the Workload API client
 * (`workloadapi`). Explicit names: the public surface is pinned by test/package/public-surface.ts.
 */
export { SpiffeError, isSpiffeError, NOT_TRUSTED, type SpiffeModule } from './errors.js';
export {
  SpiffeId,
  TrustDomain,
  SpiffeIdError,
  matchAny,
  matchId,
  matchOneOf,
  matchMemberOf,
  matches,
  type Matcher,
  type SpiffeIdErrorReason,
} from './spiffeid/index.js';
export {
  X509Svid,
  verify as verifyX509Svid,
  createCertificate,
  createCaCertificate,
  createX509Svid,
  X509SvidError,
  type X509SvidSource,
  type VerifyOptions,
  type VerifyResult,
  type CertificateIssuer,
  type CaCertificateOptions,
  type X509SvidOptions,
  type X509SvidErrorReason,
} from './x509svid/index.js';
export {
  JwtSvid,
  signJwtSvid,
  JwtSvidError,
  type JwtSvidSource,
  type SignJwtSvidOptions,
  type JwtSvidErrorReason,
} from './jwtsvid/index.js';
export {
  X509Bundle,
  JwtBundle,
  SpiffeBundle,
  X509BundleSet,
  JwtBundleSet,
  BundleError,
  type X509BundleSource,
  type JwtBundleSource,
  type BundleErrorReason,
} from './bundle/index.js';
export {
  WorkloadApiClient,
  WorkloadApiError,
  fetchX509SVID,
  fetchX509Context,
  fetchX509Bundles,
  fetchJWTSVID,
  fetchJWTBundles,
  validateJWTSVID,
  type ClientOptions,
  type X509Context,
  type WatchOptions,
  type WorkloadApiErrorReason,
} from './workloadapi/index.js';
