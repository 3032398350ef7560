/**
 * The TPM 2.0 constants this library uses, with the values of TPM 2.0 Part 2 (Structures), rev. 1.59:
 * command codes (§6.5), algorithm identifiers (the TCG Algorithm Registry), structure tags (§6.9),
 * permanent handles (§7.4), session types (§6.11), object attributes (§8.3) and NV attributes (§13.4).
 * Only the values used here are listed; an unknown one from a TPM is shown in hex, never guessed.
 */

/** TPM_CC: command codes (Part 2 §6.5.2). */
export const TPM_CC = {
  NV_Read: 0x0000014e,
  Startup: 0x00000144,
  ActivateCredential: 0x00000147,
  PolicySecret: 0x00000151,
  Create: 0x00000153,
  Load: 0x00000157,
  CreatePrimary: 0x00000131,
  FlushContext: 0x00000165,
  NV_ReadPublic: 0x00000169,
  ReadPublic: 0x00000173,
  StartAuthSession: 0x00000176,
  GetCapability: 0x0000017a,
  PolicyGetDigest: 0x00000189,
} as const;

/** The command's name as the spec writes it (`TPM2_ActivateCredential`), for messages. */
export function commandName(cc: number): string {
  for (const [name, value] of Object.entries(TPM_CC)) if (value === cc) return `TPM2_${name}`;
  return `TPM command 0x${cc.toString(16).padStart(8, '0')}`;
}

/** TPM_ALG_ID (TCG Algorithm Registry). */
export const TPM_ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  RSASSA: 0x0014,
  RSAES: 0x0015,
  RSAPSS: 0x0016,
  OAEP: 0x0017,
  ECDSA: 0x0018,
  ECDH: 0x0019,
  ECDAA: 0x001a,
  ECSCHNORR: 0x001c,
  ECC: 0x0023,
  SYMCIPHER: 0x0025,
  CFB: 0x0043,
} as const;

/** TPM_ECC_CURVE (Part 2 §6.4). */
export const TPM_ECC = {
  NIST_P256: 0x0003,
  NIST_P384: 0x0004,
  NIST_P521: 0x0005,
} as const;

/** TPM_ST: structure tags (Part 2 §6.9). */
export const TPM_ST = {
  RSP_COMMAND: 0x00c4,
  NO_SESSIONS: 0x8001,
  SESSIONS: 0x8002,
} as const;

/** TPM_SU: Startup types (Part 2 §6.10). */
export const TPM_SU = { CLEAR: 0x0000, STATE: 0x0001 } as const;

/** TPM_SE: session types (Part 2 §6.11). */
export const TPM_SE = { HMAC: 0x00, POLICY: 0x01, TRIAL: 0x03 } as const;

/** Permanent handles (Part 2 §7.4). TPM_RS_PW is the password "session". */
export const TPM_RH = {
  OWNER: 0x40000001,
  NULL: 0x40000007,
  RS_PW: 0x40000009,
  ENDORSEMENT: 0x4000000b,
  PLATFORM: 0x4000000c,
} as const;

/** TPM_CAP and TPM_PT (Part 2 §6.12, §6.13): the one property read here. */
export const TPM_CAP_TPM_PROPERTIES = 0x00000006;
export const TPM_PT_NV_BUFFER_MAX = 0x00000100 + 44;

/** TPMA_OBJECT bits (Part 2 §8.3), named as tpm2-tools prints them. */
export const TPMA_OBJECT = {
  fixedtpm: 1 << 1,
  stclear: 1 << 2,
  fixedparent: 1 << 4,
  sensitivedataorigin: 1 << 5,
  userwithauth: 1 << 6,
  adminwithpolicy: 1 << 7,
  noda: 1 << 10,
  encryptedduplication: 1 << 11,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
} as const;

/** The attribute names set in `attributes`, in bit order: `fixedtpm|fixedparent|…` as tpm2_readpublic prints them. */
export function objectAttributeNames(attributes: number): string[] {
  return Object.entries(TPMA_OBJECT)
    .filter(([, bit]) => (attributes & bit) !== 0)
    .map(([name]) => name);
}

/** TPMA_NV bits (Part 2 §13.4) that decide how an index is read. */
export const TPMA_NV = {
  PPREAD: 1 << 16,
  OWNERREAD: 1 << 17,
  AUTHREAD: 1 << 18,
  POLICYREAD: 1 << 19,
  WRITTEN: 1 << 29,
} as const;

/** TPMA_SESSION bits (Part 2 §8.4). */
export const TPMA_SESSION = { continueSession: 0x01 } as const;
