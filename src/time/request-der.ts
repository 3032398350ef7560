import { HASH_OIDS } from './algorithms.js';
import type { tsp } from './asn1.js';
import { integer, octetString, sequence, smallInteger } from '../crypto/der.js';
import { objectIdentifier } from '../crypto/object-identifier.js';

const DER_NULL = Buffer.from([0x05, 0x00]);

/** The AlgorithmIdentifier of each accepted hash, parameters absent and NULL, as written back (RFC 5754 §2 allows both). */
const HASH_ALGORITHMS = new Map(
  Object.keys(HASH_OIDS).map((oid) => {
    const id = objectIdentifier(oid);
    return [oid, { absent: sequence(id), null: sequence(id, DER_NULL) }] as const;
  }),
);

/**
 * The DER of a message imprint as read: an accepted hash (absent or NULL parameters) and its value.
 * Undefined for any other, which the TSA refuses (badAlg) before it would echo the imprint.
 */
export function messageImprintDer(imprint: tsp.MessageImprint): Buffer | undefined {
  const alg = HASH_ALGORITHMS.get(imprint.hashAlgorithm.algorithm);
  const params = imprint.hashAlgorithm.parameters;
  if (alg === undefined) return undefined;
  // the library reads NULL parameters as null; a NULL given as its encoding is written the same
  const isNull = params === null || (params !== undefined && Buffer.from(params).equals(DER_NULL));
  if (params !== undefined && !isNull) return undefined;
  return sequence(isNull ? alg.null : alg.absent, octetString(new Uint8Array(imprint.hashedMessage.buffer)));
}

/**
 * The DER of a TimeStampReq as the library read it, written as the library would write it back, for
 * the requests a TSA answers with a token: version below 128, an accepted hash, no policy or
 * `policy` (the TSA's, its OID as `policyDer`), no extensions. Undefined for any other: those are
 * checked by the library's own encoding (request.ts), as they are rare and refused anyway. Like the
 * library, this writes the nonce's content octets as read (not checked to be minimal), and certReq only
 * when TRUE, as 0xFF (test/time/request-fuzz.test.ts compares the two).
 */
export function timestampRequestDer(request: tsp.TimeStampReq, policy: string, policyDer: Buffer): Buffer | undefined {
  const { version, reqPolicy, nonce, extensions } = request;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > 127) return undefined;
  if (extensions !== undefined || (reqPolicy !== undefined && reqPolicy !== policy)) return undefined;
  const imprint = messageImprintDer(request.messageImprint);
  if (imprint === undefined) return undefined;
  return sequence(
    smallInteger(version),
    imprint,
    ...(reqPolicy !== undefined ? [policyDer] : []),
    ...(nonce !== undefined ? [integer(new Uint8Array(nonce))] : []),
    ...(request.certReq ? [CERT_REQ_TRUE] : []),
  );
}

const CERT_REQ_TRUE = Buffer.from([0x01, 0x01, 0xff]);
