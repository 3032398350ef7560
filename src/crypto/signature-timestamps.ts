/**
 * RFC 3161 timestamps attached to a signature, in Witness's shape so Witness and Archivista users read
 * them: `signatures[i].timestamps: [{"type": "tsp", "data": base64(DER TimeStampToken)}]`. The token's
 * message imprint is the hash of the signature's raw bytes (hex-decoded in a metablock, base64-decoded in
 * a DSSE envelope): it proves the signature existed at the token's genTime (docs/trusted-time.md).
 */
export interface SignatureTimestamp {
  type: 'tsp';
  /** The DER TimeStampToken (a CMS SignedData), base64. */
  data: string;
}

/** More than a handful of tokens on one signature is not a real use (one per TSA asked); it bounds the work. */
export const MAX_TIMESTAMPS_PER_SIGNATURE = 8;

/** Tokens are a few KB; one far bigger is not a token, and must not cost the verifier to decode. */
const MAX_TOKEN_BASE64 = 64 * 1024;

/** What is wrong with a signature entry's `timestamps` value, or undefined when it has Witness's shape. */
export function timestampsProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be a list of {"type": "tsp", "data": base64}';
  if (value.length > MAX_TIMESTAMPS_PER_SIGNATURE) return `holds ${value.length} timestamps, more than ${MAX_TIMESTAMPS_PER_SIGNATURE}`;
  for (const [i, t] of value.entries()) {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) return `[${i}] must be an object {"type": "tsp", "data": base64}`;
    const entry = t as Record<string, unknown>;
    const unknown = Object.keys(entry).find((k) => k !== 'type' && k !== 'data');
    if (unknown !== undefined) return `[${i}]: unknown field '${unknown}'`;
    if (entry.type !== 'tsp') return `[${i}].type must be "tsp" (an RFC 3161 token), not ${JSON.stringify(entry.type) ?? 'missing'}`;
    if (typeof entry.data !== 'string' || entry.data === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(entry.data))
      return `[${i}].data must be a base64 DER TimeStampToken`;
    if (entry.data.length > MAX_TOKEN_BASE64)
      return `[${i}].data is ${entry.data.length} characters, more than a token (${MAX_TOKEN_BASE64})`;
  }
  return undefined;
}

/** A checked `timestamps` value, copied to plain entries (nothing else from the input rides along). */
export function copyTimestamps(value: readonly SignatureTimestamp[]): SignatureTimestamp[] {
  return value.map((t) => ({ type: 'tsp', data: t.data }));
}

/** The bytes a signature's tokens time-stamp: the raw signature, decoded from the entry's `sig`. */
export function timestampedBytes(sig: string, encoding: 'hex' | 'base64'): Buffer {
  return Buffer.from(sig, encoding);
}
