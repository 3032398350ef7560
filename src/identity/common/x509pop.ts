import { sign, verify, type KeyObject } from 'node:crypto';
import { badInput } from '../../errors.js';

/**
 * x509pop node attestation as both sides speak it: the agent sends its node certificate chain and signs
 * the server's nonce with the certificate's key; the server checks the chain and the signature. Both
 * sides use these functions, so the payload and the signature format cannot drift apart.
 */

/** The attestor type, as the agent sends it and the server registers it. */
export const X509POP_TYPE = 'x509pop';

/** Domain separation: a signature made for this challenge is useless anywhere else. */
const CONTEXT = Buffer.from('evident x509pop challenge v1\n');

/** What the agent sends first: its certificate and any intermediates, leaf first, DER base64. */
export interface X509popPayload {
  certificates: string[];
}

/** The agent side: the AttestParams payload for its certificate chain (DER, leaf first). */
export function x509popPayload(chain: readonly Uint8Array[]): Buffer {
  const p: X509popPayload = { certificates: chain.map((d) => Buffer.from(d).toString('base64')) };
  return Buffer.from(JSON.stringify(p));
}

/**
 * The server side: the DER certificates of a payload, leaf first (not yet parsed as certificates).
 *
 * @throws EvidentError BAD_INPUT when it is not the JSON `x509popPayload` writes, or carries no certificate
 */
export function parseX509popPayload(payload: Uint8Array): Buffer[] {
  let p: Partial<X509popPayload>;
  try {
    p = JSON.parse(Buffer.from(payload).toString('utf8')) as Partial<X509popPayload>;
  } catch (e) {
    throw badInput((e as Error).message);
  }
  if (!Array.isArray(p?.certificates) || p.certificates.length === 0) throw badInput('no certificates');
  return p.certificates.map((c, i) => {
    if (typeof c !== 'string') throw badInput(`certificate #${i + 1} is not a base64 string`);
    return Buffer.from(c, 'base64');
  });
}

/** The signature scheme for a key: RSA-PSS for RSA, Ed25519 as is, ECDSA with SHA-256. */
function signatureParams(key: KeyObject): { alg: string | null; opts: object } {
  if (key.asymmetricKeyType === 'rsa') return { alg: 'sha256', opts: { padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 } };
  if (key.asymmetricKeyType === 'ed25519') return { alg: null, opts: {} };
  return { alg: 'sha256', opts: {} };
}

/** The agent side: signs the server's challenge with the key of the node certificate. */
export function answerX509popChallenge(challenge: Uint8Array, privateKey: KeyObject): Buffer {
  const { alg, opts } = signatureParams(privateKey);
  return sign(alg, Buffer.concat([CONTEXT, challenge]), { key: privateKey, ...opts });
}

/** The server side: whether `answer` is the node certificate key's signature over `challenge`. */
export function verifyX509popAnswer(challenge: Uint8Array, answer: Uint8Array, publicKey: KeyObject): boolean {
  const { alg, opts } = signatureParams(publicKey);
  try {
    return verify(alg, Buffer.concat([CONTEXT, challenge]), { key: publicKey, ...opts }, answer);
  } catch {
    return false;
  }
}
