/**
 * TPM 2.0 in TypeScript, no native code and no TPM tools at run time: what node attestation by a machine's
 * TPM needs (docs/tpm.md).
 *
 * - transports: a TPM character device (`device:/dev/tpmrm0`, the default) or swtpm's TCP server
 *   (`swtpm:host=…,port=…`), named by a TCTI string as tpm2-tools names them;
 * - marshalling of the structures and commands used, and response codes as words;
 * - the agent's side: the EK from the TCG default templates and its certificate from NV, an attestation
 *   key under it, TPM2_ActivateCredential;
 * - the server's side, pure node:crypto: MakeCredential, an object's name, the EK as a KeyObject, its DER
 *   SubjectPublicKeyInfo and that SPKI's SHA-256 (the machine's identity).
 */
export { activateCredential } from './activate-credential.js';
export { AK_ATTRIBUTES, akTemplate, createAk, type Ak } from './ak.js';
export { passwordSession, policySessionAuth, type AuthSession } from './command.js';
export { objectAttributeNames, TPM_ALG, TPM_ECC, TPM_RH, TPMA_OBJECT } from './constants.js';
export { createEk, EK_ATTRIBUTES, EK_CERT_INDEX, EK_POLICY, ekTemplate, endorsementPolicy, readEkCertificate, type EkKind } from './ek.js';
export { isTpmError, TpmError } from './errors.js';
export { kdfa, kdfe } from './kdf.js';
export { makeCredential, type Credential } from './make-credential.js';
export { nvReadAll, nvReadPublic } from './nv.js';
export { create, createPrimary, load, readPublic, type CreatedObject, type LoadedObject, type TpmObject } from './objects.js';
export { publicKeyObject, publicKeySha256, publicKeySpki, publicName } from './public-key.js';
export { decodeRc, describeRc, TPM_RC, type DecodedRc } from './response-codes.js';
export { policySecretDigest, startAuthSession, policySecret, withEndorsementPolicy } from './sessions.js';
export { parsePublic, publicBytes, type EccPublic, type NvPublic, type RsaPublic, type TpmPublic } from './structures.js';
export { formatTcti, parseTcti, type Tcti } from './tcti.js';
export { Tpm } from './tpm.js';
export { openTransport, type TpmTransport } from './transport.js';
export { SwtpmTransport } from './swtpm-transport.js';
