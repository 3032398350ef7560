import { EvidentError } from '../errors.js';
import { envelopeMessages } from './identity-cache.js';
import type { PublicKey } from './keys.js';
import type { Signer } from './signer.js';
import { copyTimestamps, timestampsProblem, type SignatureTimestamp } from './signature-timestamps.js';

/**
 * DSSE (Dead Simple Signing Envelope) v1: signatures are over PAE(type, payload), never over the JSON
 * envelope, so the payload bytes are signed exactly as they travel.
 */
export interface DsseSignature {
  keyid: string;
  sig: string;
  /** The signer's certificate (PEM), when signed with an X.509 identity such as an SVID. */
  cert?: string;
  /** RFC 3161 tokens over the signature's bytes, Witness's field (signature-timestamps.ts). */
  timestamps?: SignatureTimestamp[];
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

/** Pre-Authentication Encoding: `DSSEv1 <len(type)> <type> <len(body)> <body>`, lengths in bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** Signs `payload` with every key given; each signature is base64 over PAE. */
export function signEnvelope(payloadType: string, payload: Uint8Array, signers: readonly Signer[]): DsseEnvelope {
  if (signers.length === 0) throw new EvidentError('BAD_USAGE', 'dsse: at least one signing key is needed');
  const message = pae(payloadType, payload);
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: signers.map((signer) => signatureEntry(signer, message)),
  };
}

function signatureEntry(signer: Signer, message: Buffer): DsseSignature {
  const entry: DsseSignature = { keyid: signer.keyid, sig: signer.signRaw(message).toString('base64') };
  if (signer.certificate !== undefined) entry.cert = signer.certificate;
  return entry;
}

/** Adds a signature by `key` to an existing envelope (a new envelope; the input is not changed). */
export function addEnvelopeSignature(envelope: DsseEnvelope, signer: Signer): DsseEnvelope {
  const message = pae(envelope.payloadType, envelopePayload(envelope));
  return { ...envelope, signatures: [...envelope.signatures, signatureEntry(signer, message)] };
}

export function envelopePayload(envelope: DsseEnvelope): Buffer {
  const { message, payloadStart } = signedMessage(envelope);
  return message.subarray(payloadStart);
}

/**
 * PAE(payloadType, payload): the bytes every signature of the envelope is over; the payload is its tail.
 * A large payload (a link of 10^5 artifacts is ~60 MB of base64) is decoded once per envelope, however many
 * keys are tried against it (identity-cache.ts; an envelope changed since is decoded again).
 */
function signedMessage(envelope: DsseEnvelope): { message: Buffer; payloadStart: number } {
  return envelopeMessages.get(envelope, decodeMessage);
}

function decodeMessage(envelope: DsseEnvelope): { payloadType: string; payload: string; message: Buffer; payloadStart: number } {
  const payload = Buffer.from(envelope.payload, 'base64');
  const message = pae(envelope.payloadType, payload);
  return { payloadType: envelope.payloadType, payload: envelope.payload, message, payloadStart: message.length - payload.length };
}

/**
 * The keys (from `trusted`) whose valid signature the envelope carries, each counted once. A signature's
 * keyid is only a hint: every trusted key with that keyid is tried, and an empty keyid tries them all.
 */
export function verifyEnvelope(envelope: DsseEnvelope, trusted: PublicKey[]): PublicKey[] {
  const { message } = signedMessage(envelope);
  const accepted = new Map<string, PublicKey>();
  for (const signature of envelope.signatures) {
    let raw: Buffer;
    try {
      raw = Buffer.from(signature.sig, 'base64');
    } catch {
      continue;
    }
    for (const key of trusted) {
      if (accepted.has(key.keyid)) continue;
      if (signature.keyid !== '' && signature.keyid !== key.keyid) continue;
      if (key.verifyRaw(message, raw)) accepted.set(key.keyid, key);
    }
  }
  return [...accepted.values()];
}

/**
 * The signature entries of the envelope that `key` made and that `wanted` picks, in order: each is
 * checked (the keyid, when given, must be the key's; the signature must verify). At most `limit` picked
 * entries are checked, so a crafted envelope repeating one entry costs a bounded number of verifications.
 */
export function envelopeSignaturesBy(
  envelope: DsseEnvelope,
  key: PublicKey,
  wanted: (signature: DsseSignature) => boolean,
  limit: number,
): DsseSignature[] {
  const candidates = envelope.signatures.filter((s) => (s.keyid === '' || s.keyid === key.keyid) && wanted(s)).slice(0, limit);
  if (candidates.length === 0) return [];
  const { message } = signedMessage(envelope);
  return candidates.filter((s) => key.verifyRaw(message, Buffer.from(s.sig, 'base64')));
}

/** Validates the envelope's shape (strict: unknown fields are refused), for files read from disk. */
export function parseEnvelope(value: unknown, file?: string): DsseEnvelope {
  const bad = (msg: string) => new EvidentError('BAD_INPUT', `dsse: ${msg}`, { file });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('an envelope is a JSON object');
  const env = value as Record<string, unknown>;
  for (const k of Object.keys(env)) if (!['payloadType', 'payload', 'signatures'].includes(k)) throw bad(`unknown field '${k}'`);
  if (typeof env.payloadType !== 'string' || env.payloadType === '') throw bad('payloadType must be a non-empty string');
  if (typeof env.payload !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(env.payload)) throw bad('payload must be base64');
  if (!Array.isArray(env.signatures)) throw bad('signatures must be a list');
  const signatures = env.signatures.map((s, i): DsseSignature => {
    if (typeof s !== 'object' || s === null) throw bad(`signatures[${i}] must be an object`);
    const sig = s as Record<string, unknown>;
    for (const k of Object.keys(sig))
      if (!['keyid', 'sig', 'cert', 'timestamps'].includes(k)) throw bad(`signatures[${i}]: unknown field '${k}'`);
    if (typeof sig.sig !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(sig.sig)) throw bad(`signatures[${i}].sig must be base64`);
    if (sig.keyid !== undefined && typeof sig.keyid !== 'string') throw bad(`signatures[${i}].keyid must be a string`);
    if (sig.cert !== undefined && typeof sig.cert !== 'string') throw bad(`signatures[${i}].cert must be a PEM string`);
    const timestamps = sig.timestamps === undefined ? undefined : timestampsProblem(sig.timestamps);
    if (timestamps !== undefined) throw bad(`signatures[${i}].timestamps ${timestamps}`);
    return {
      keyid: (sig.keyid as string | undefined) ?? '',
      sig: sig.sig,
      ...(sig.cert !== undefined ? { cert: sig.cert as string } : {}),
      ...(sig.timestamps !== undefined ? { timestamps: copyTimestamps(sig.timestamps as SignatureTimestamp[]) } : {}),
    };
  });
  return { payloadType: env.payloadType, payload: env.payload, signatures };
}
