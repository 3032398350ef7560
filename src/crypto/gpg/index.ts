/**
 * OpenPGP keys as the Python reference uses them for in-toto metadata (securesystemslib.gpg): a layout
 * stores a key as the dict its export_pubkey makes from `gpg --export` (key-dict.ts, export.ts); a
 * metablock signature is a detached v4 signature split into `other_headers` and `signature`
 * (signature.ts), checked from the dict alone with OpenSSL, no keyring; a GpgPublicKey is a PublicKey
 * with the reference's rules (first signature by the key or a subkey decides; expiry); signing runs the
 * gpg binary as the reference does (gpg-binary.ts). docs/interop.md says what is supported and what differs.
 */
export { GpgPublicKey } from './public-key.js';
export { GpgSigner, exportGpgKey, gpgDetachSign, type GpgOptions } from './gpg-binary.js';
export { exportedKeyDict, type ExportedKey } from './export.js';
export { isOpenPgpKeyFile, openPgpKeyFromFile } from './key-file.js';
export { gpgKeyDictProblems, looksLikeGpgKeyDict, GPG_KEY_TYPES, type GpgKeyDict, type GpgKeyType } from './key-dict.js';
export {
  isGpgSignature,
  gpgSignatureProblems,
  copyGpgSignature,
  verifyGpgSignature,
  readSignaturePacket,
  type GpgSignature,
} from './signature.js';
