/**
 * The TPM 2.0 structures the attestation commands carry (TPM 2.0 Part 2): TPMT_PUBLIC for RSA and ECC
 * keys (§12.2.4), TPMS_SENSITIVE_CREATE (§11.1.15), TPML_PCR_SELECTION (§10.9.7), TPMS_NV_PUBLIC
 * (§13.5) and the tickets a response carries (§10.7). Each is a plain object with a writer and a
 * reader, and the reader of a writer's output gives back the same object (test/tpm/structures.test.ts).
 * Keyed-hash and symmetric-cipher objects are not used by attestation and are refused by name.
 */
import { TPM_ALG } from './constants.js';
import { TpmReader, TpmWriter } from './marshal.js';

/** TPMT_SYM_DEF_OBJECT: `algorithm` TPM_ALG_NULL means none (keyBits and mode are then 0). */
export interface SymDefObject {
  readonly algorithm: number;
  readonly keyBits: number;
  readonly mode: number;
}

/** A signing, encryption or KDF scheme: TPM_ALG_NULL means none (hashAlg is then TPM_ALG_NULL too). */
export interface Scheme {
  readonly scheme: number;
  readonly hashAlg: number;
  /** TPM_ALG_ECDAA's commit count. */
  readonly count?: number;
}

interface PublicBase {
  readonly nameAlg: number;
  readonly objectAttributes: number;
  readonly authPolicy: Buffer;
  readonly symmetric: SymDefObject;
  readonly scheme: Scheme;
}

export interface RsaPublic extends PublicBase {
  readonly type: typeof TPM_ALG.RSA;
  readonly keyBits: number;
  /** 0 means the default, 2^16 + 1. */
  readonly exponent: number;
  readonly modulus: Buffer;
}

export interface EccPublic extends PublicBase {
  readonly type: typeof TPM_ALG.ECC;
  readonly curveId: number;
  readonly kdf: Scheme;
  readonly x: Buffer;
  readonly y: Buffer;
}

/** TPMT_PUBLIC of an RSA or ECC key. */
export type TpmPublic = RsaPublic | EccPublic;

export const NULL_SYM: SymDefObject = { algorithm: TPM_ALG.NULL, keyBits: 0, mode: 0 };
export const NULL_SCHEME: Scheme = { scheme: TPM_ALG.NULL, hashAlg: TPM_ALG.NULL };

/** Schemes whose details are a hash algorithm (TPMS_SCHEME_HASH); TPM_ALG_ECDAA adds a count; RSAES and NULL have none. */
const HASH_SCHEMES = new Set<number>([
  0x0007, // MGF1
  TPM_ALG.RSASSA,
  TPM_ALG.RSAPSS,
  TPM_ALG.OAEP,
  TPM_ALG.ECDSA,
  TPM_ALG.ECDH,
  TPM_ALG.ECDAA,
  0x001b, // SM2
  TPM_ALG.ECSCHNORR,
  0x001d, // ECMQV
  0x0020, // KDF1_SP800_56A
  0x0021, // KDF2
  0x0022, // KDF1_SP800_108
]);

/** Largest sizes a TPM2B in a public area may have: RSA 4096 moduli, P-521 coordinates, SHA-512 policies. */
const MAX_MODULUS = 512;
const MAX_COORDINATE = 66;
const MAX_DIGEST = 64;

function writeSymDef(w: TpmWriter, s: SymDefObject): void {
  w.u16(s.algorithm);
  if (s.algorithm !== TPM_ALG.NULL) w.u16(s.keyBits).u16(s.mode);
}

function readSymDef(r: TpmReader): SymDefObject {
  const algorithm = r.u16('symmetric.algorithm');
  if (algorithm === TPM_ALG.NULL) return NULL_SYM;
  return { algorithm, keyBits: r.u16('symmetric.keyBits'), mode: r.u16('symmetric.mode') };
}

function writeScheme(w: TpmWriter, s: Scheme): void {
  w.u16(s.scheme);
  if (HASH_SCHEMES.has(s.scheme)) w.u16(s.hashAlg);
  if (s.scheme === TPM_ALG.ECDAA) w.u16(s.count ?? 0);
}

function readScheme(r: TpmReader, field: string): Scheme {
  const scheme = r.u16(`${field}.scheme`);
  if (scheme === TPM_ALG.NULL || scheme === TPM_ALG.RSAES) return { scheme, hashAlg: TPM_ALG.NULL };
  if (!HASH_SCHEMES.has(scheme)) throw r.error(`${field}: unknown scheme 0x${scheme.toString(16).padStart(4, '0')}`);
  const hashAlg = r.u16(`${field}.hashAlg`);
  return scheme === TPM_ALG.ECDAA ? { scheme, hashAlg, count: r.u16(`${field}.count`) } : { scheme, hashAlg };
}

export function writePublic(w: TpmWriter, p: TpmPublic): void {
  w.u16(p.type).u16(p.nameAlg).u32(p.objectAttributes).tpm2b(p.authPolicy, 'authPolicy');
  writeSymDef(w, p.symmetric);
  writeScheme(w, p.scheme);
  if (p.type === TPM_ALG.RSA) {
    w.u16(p.keyBits).u32(p.exponent).tpm2b(p.modulus, 'unique.rsa');
  } else {
    w.u16(p.curveId);
    writeScheme(w, p.kdf);
    w.tpm2b(p.x, 'unique.ecc.x').tpm2b(p.y, 'unique.ecc.y');
  }
}

export function readPublic(r: TpmReader): TpmPublic {
  const type = r.u16('type');
  if (type !== TPM_ALG.RSA && type !== TPM_ALG.ECC)
    throw r.error(`public area of type 0x${type.toString(16).padStart(4, '0')} is not an RSA or ECC key`);
  const base = {
    nameAlg: r.u16('nameAlg'),
    objectAttributes: r.u32('objectAttributes'),
    authPolicy: r.tpm2b('authPolicy', MAX_DIGEST),
    symmetric: readSymDef(r),
    scheme: readScheme(r, 'scheme'),
  };
  if (type === TPM_ALG.RSA) {
    const keyBits = r.u16('keyBits');
    const exponent = r.u32('exponent');
    return { type, ...base, keyBits, exponent, modulus: r.tpm2b('unique.rsa', MAX_MODULUS) };
  }
  const curveId = r.u16('curveID');
  const kdf = readScheme(r, 'kdf');
  const x = r.tpm2b('unique.ecc.x', MAX_COORDINATE);
  return { type, ...base, curveId, kdf, x, y: r.tpm2b('unique.ecc.y', MAX_COORDINATE) };
}

/** TPMT_PUBLIC as bytes: what a name hashes and what TPM2B_PUBLIC wraps. */
export function publicBytes(p: TpmPublic): Buffer {
  const w = new TpmWriter();
  writePublic(w, p);
  return w.toBuffer();
}

/** Reads a whole TPMT_PUBLIC from bytes (the contents of a TPM2B_PUBLIC), refusing trailing bytes. */
export function parsePublic(bytes: Buffer, what = 'TPMT_PUBLIC'): TpmPublic {
  const r = new TpmReader(bytes, what);
  const p = readPublic(r);
  r.end();
  return p;
}

/** TPMS_SENSITIVE_CREATE, inside its TPM2B: the new object's password and (for sealed data) its data. */
export function writeSensitiveCreate(w: TpmWriter, userAuth: Buffer = Buffer.alloc(0), data: Buffer = Buffer.alloc(0)): void {
  w.sized((s) => s.tpm2b(userAuth, 'userAuth').tpm2b(data, 'data'), 'TPM2B_SENSITIVE_CREATE');
}

/** One bank of TPML_PCR_SELECTION: a hash and the PCR numbers selected in it. */
export interface PcrSelection {
  readonly hashAlg: number;
  readonly pcrs: readonly number[];
}

/** TPML_PCR_SELECTION; the select bitmaps are 3 bytes (PCRs 0–23), as every PC-client TPM has. */
export function writePcrSelection(w: TpmWriter, banks: readonly PcrSelection[]): void {
  w.u32(banks.length);
  for (const b of banks) {
    const select = Buffer.alloc(3);
    for (const pcr of b.pcrs) select[pcr >> 3]! |= 1 << (pcr & 7);
    w.u16(b.hashAlg).u8(select.length).bytes(select);
  }
}

export function readPcrSelection(r: TpmReader): PcrSelection[] {
  const count = r.u32('TPML_PCR_SELECTION.count');
  if (count > 16) throw r.error(`TPML_PCR_SELECTION: ${count} banks is more than a TPM has`);
  const banks: PcrSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hashAlg = r.u16('TPMS_PCR_SELECTION.hash');
    const select = r.bytes(r.u8('TPMS_PCR_SELECTION.sizeofSelect'), 'TPMS_PCR_SELECTION.pcrSelect');
    const pcrs: number[] = [];
    for (let pcr = 0; pcr < select.length * 8; pcr++) if ((select[pcr >> 3]! & (1 << (pcr & 7))) !== 0) pcrs.push(pcr);
    banks.push({ hashAlg, pcrs });
  }
  return banks;
}

/** TPMS_NV_PUBLIC: an NV index's attributes and the size of its data. */
export interface NvPublic {
  readonly nvIndex: number;
  readonly nameAlg: number;
  readonly attributes: number;
  readonly authPolicy: Buffer;
  readonly dataSize: number;
}

export function writeNvPublic(w: TpmWriter, p: NvPublic): void {
  w.u32(p.nvIndex).u16(p.nameAlg).u32(p.attributes).tpm2b(p.authPolicy, 'authPolicy').u16(p.dataSize);
}

export function readNvPublic(r: TpmReader): NvPublic {
  return {
    nvIndex: r.u32('nvIndex'),
    nameAlg: r.u16('nameAlg'),
    attributes: r.u32('attributes'),
    authPolicy: r.tpm2b('authPolicy', MAX_DIGEST),
    dataSize: r.u16('dataSize'),
  };
}

/** A TPMT_TK_* ticket (creation, auth): tag, hierarchy, digest. Read to get past it. */
export interface Ticket {
  readonly tag: number;
  readonly hierarchy: number;
  readonly digest: Buffer;
}

export function readTicket(r: TpmReader, field: string): Ticket {
  return { tag: r.u16(`${field}.tag`), hierarchy: r.u32(`${field}.hierarchy`), digest: r.tpm2b(`${field}.digest`, MAX_DIGEST) };
}
