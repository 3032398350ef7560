export { X509Bundle, type X509BundleSource } from './x509-bundle.js';
export { JwtBundle, type JwtBundleSource } from './jwt-bundle.js';
export { SpiffeBundle, type SpiffeBundleContents } from './spiffe-bundle.js';
export { X509BundleSet, JwtBundleSet } from './set.js';
export { BundleError, type BundleErrorReason } from './errors.js';
