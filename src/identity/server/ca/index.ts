export { CaManager, type CaOptions, type IssuedJwtSvid, type IssuedX509Svid } from './manager.js';
export { rotationStep, type RotationStep } from './rotation.js';
export { bundleToPem, bundleToSpiffeJson, type JwtAuthority, type TrustBundle } from './bundle.js';
export { loadUpstreamCa, type UpstreamCa } from './upstream.js';
export { CA_KEY_TYPES, generateSigningKey, keyIdOf, loadSigningKey, type CaKeyType, type SigningKey } from './keys.js';
export { createCaCert, LeafSigner, type LeafParams } from './x509.js';
