export { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
export { computeKeyid, keytypeOf, KEYID_HASH_ALGORITHMS, SCHEMES } from './key-dict.js';
export type { KeyDict, KeyType, Scheme } from './key-dict.js';
export { PublicKey, PrivateKey, defaultScheme } from './keys.js';
export {
  loadPublicKey,
  loadPrivateKey,
  parsePublicKey,
  parsePrivateKey,
  generatePrivateKey,
  saveKeyPair,
  privateKeyPem,
  publicKeyPem,
  securesystemslibKeyFiles,
} from './key-files.js';
export { pae, signEnvelope, addEnvelopeSignature, verifyEnvelope, envelopePayload, parseEnvelope } from './dsse.js';
export type { DsseEnvelope, DsseSignature } from './dsse.js';
export { CertificateSigner } from './signer.js';
export type { Signer } from './signer.js';
