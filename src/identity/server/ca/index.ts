export { CaManager, type CaOptions, type IssuedJwtSvid, type IssuedX509Svid, type RootInfo } from './manager.js';
export { rootStep, rotationStep, type RotationStep } from './rotation.js';
export { bundleToPem, bundleToSpiffeJson, type JwtAuthority, type TrustBundle } from './bundle.js';
export { loadUpstreamCa, type UpstreamCa } from './upstream.js';
export { CA_KEY_TYPES, DEFAULT_ROOT_TTL_SECONDS, type CaKeyType } from './constants.js';
export { generateSigningKey, keyIdOf, loadSigningKey, type SigningKey } from './keys.js';
export { createCaCert, createRootCert, LeafSigner, type LeafParams } from './x509.js';
export type { CaAuthority } from './authority.js';
