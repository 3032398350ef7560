import type { KeyObject } from 'node:crypto';

/** The curves evident signs and verifies with, by OpenSSL's names (node:crypto's `namedCurve`). */
export type NamedCurve = 'prime256v1' | 'secp384r1' | 'secp521r1';

/** The hash ECDSA signs with on each curve (RFC 5480 §4; securesystemslib's nistp256/384/521 schemes alike). */
export const CURVE_HASH: Readonly<Record<NamedCurve, 'sha256' | 'sha384' | 'sha512'>> = {
  prime256v1: 'sha256',
  secp384r1: 'sha384',
  secp521r1: 'sha512',
};

/** AlgorithmIdentifier { id-ecPublicKey, namedCurve } in DER, as SPKI and PKCS #8 both carry it (RFC 5480, RFC 5915). */
const ALGORITHMS: readonly { readonly curve: NamedCurve; readonly der: Buffer }[] = [
  { curve: 'prime256v1', der: Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex') },
  { curve: 'secp384r1', der: Buffer.from('301006072a8648ce3d020106052b81040022', 'hex') },
  { curve: 'secp521r1', der: Buffer.from('301006072a8648ce3d020106052b81040023', 'hex') },
];

/** OBJECT IDENTIFIER id-ecPublicKey (1.2.840.10045.2.1) in DER. */
const ID_EC_PUBLIC_KEY = Buffer.from('06072a8648ce3d0201', 'hex');

const known = new WeakMap<KeyObject, NamedCurve | null>();

/**
 * The named curve of an EC key, read from its DER (SubjectPublicKeyInfo, or PKCS #8 for a private key)
 * instead of node:crypto's `asymmetricKeyDetails`. OpenSSL 3 reads some EC keys it cannot then convert
 * for that getter (parameters given explicitly or malformed), and Node 20 asserts on such a key and
 * aborts the whole process (`GetEcKeyDetail: Assertion failed: (ec) != nullptr`): one crafted key in a
 * layout, a link's certificate or a bundle would take down a verifier, the store or the gate. Here such a
 * key has no curve (undefined), so callers refuse it with their own error. Undefined for a key that is not EC.
 */
export function namedCurveOf(key: KeyObject): NamedCurve | undefined {
  if (key.asymmetricKeyType !== 'ec') return undefined;
  let curve = known.get(key);
  if (curve === undefined) {
    curve = readCurve(key);
    known.set(key, curve);
  }
  return curve ?? undefined;
}

function readCurve(key: KeyObject): NamedCurve | null {
  const algorithm = algorithmOf(key);
  if (algorithm === undefined) return null;
  for (const a of ALGORITHMS) if (algorithm.subarray(0, a.der.length).equals(a.der)) return a.curve;
  return null;
}

/** For messages about an EC key evident does not use: its curve's name, or its OID, or that it names none. */
export function describeCurve(key: KeyObject): string {
  const named = namedCurveOf(key);
  if (named !== undefined) return named;
  const algorithm = algorithmOf(key);
  // SEQUENCE { OID id-ecPublicKey, parameters }: a named curve's parameters are an OID
  const at = algorithm === undefined ? 0 : headerLength(algorithm);
  const parameters = algorithm?.subarray(at).subarray(ID_EC_PUBLIC_KEY.length);
  if (
    algorithm === undefined ||
    !algorithm.subarray(at, at + ID_EC_PUBLIC_KEY.length).equals(ID_EC_PUBLIC_KEY) ||
    parameters === undefined ||
    parameters[0] !== 0x06 ||
    parameters.length < 2 + (parameters[1] ?? 0)
  )
    return 'with explicit or malformed parameters';
  const oid = dottedOid(parameters.subarray(2, 2 + parameters[1]!));
  return OTHER_CURVES[oid] ?? `OID ${oid}`;
}

/** Named curves seen in the wild that evident does not use, named in its messages. */
const OTHER_CURVES: Readonly<Record<string, string>> = {
  '1.2.840.10045.3.1.1': 'prime192v1',
  '1.3.132.0.33': 'secp224r1',
  '1.3.132.0.10': 'secp256k1',
  '1.3.36.3.3.2.8.1.1.7': 'brainpoolP256r1',
  '1.3.36.3.3.2.8.1.1.11': 'brainpoolP384r1',
  '1.3.36.3.3.2.8.1.1.13': 'brainpoolP512r1',
  '1.2.156.10197.1.301': 'SM2',
};

/** The key's DER from its AlgorithmIdentifier on, or undefined when OpenSSL cannot write it. */
function algorithmOf(key: KeyObject): Buffer | undefined {
  let der: Buffer;
  try {
    der = key.type === 'private' ? key.export({ type: 'pkcs8', format: 'der' }) : key.export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
  // SPKI: SEQUENCE { algorithm, subjectPublicKey }; PKCS #8: SEQUENCE { version INTEGER 0, algorithm, privateKey }
  let at = headerLength(der);
  if (key.type === 'private') {
    if (der[at] !== 0x02 || der[at + 1] !== 0x01) return undefined;
    at += 3;
  }
  return der.subarray(at);
}

function dottedOid(content: Buffer): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs.shift() ?? 0;
  return [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40)), ...arcs].join('.');
}

/** Bytes of the outer SEQUENCE's tag and length (DER: short form, or 0x81/0x82 long form). */
function headerLength(der: Buffer): number {
  const first = der[1] ?? 0;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}
