/**
 * Keys, signatures and the encodings signatures are made over: ed25519, ECDSA P-256/P-384/P-521 and RSA-PSS keys
 * in PEM and securesystemslib form with their keyids, OLPC canonical JSON, DSSE envelopes, and the `Signer`
 * that a static key or an SVID implements. X.509 parsing and chain walking is `crypto/x509/`; OpenPGP keys and
 * signatures as the Python reference uses them (`gpg --export` keys, `other_headers` signatures) are `crypto/gpg/`.
 */
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
export { GpgPublicKey, GpgSigner, exportGpgKey } from './gpg/index.js';
export type { GpgKeyDict, GpgSignature, GpgOptions } from './gpg/index.js';
export type { Signer } from './signer.js';
