import { X509Certificate } from 'node:crypto';
import { signEnvelope, type DsseEnvelope } from '../crypto/dsse.js';
import type { Signer } from '../crypto/signer.js';
import { timestampSignatures, type SignatureTimestamping } from '../intoto/runlib/timestamp-signatures.js';
import { INTOTO_PAYLOAD_TYPE, type Statement } from './statement.js';

/**
 * Signs a Statement into a DSSE envelope (payload type application/vnd.in-toto+json), the way a DSSE link
 * is signed: one signer, its certificate chain in the entry when it has one, and with `timestamps` a token
 * from each TSA over the signature (a TSA that fails stops it, unless optional: `consequence` ends that error).
 */
export async function signStatement(
  statement: Statement,
  signer: Signer,
  options: { timestamps?: SignatureTimestamping; consequence?: string } = {},
): Promise<DsseEnvelope> {
  const envelope = signEnvelope(INTOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement), 'utf8'), [signer]);
  return options.timestamps
    ? timestampSignatures(envelope, options.timestamps, { consequence: options.consequence ?? 'no attestation written' })
    : envelope;
}

/** The envelope as a file: two-space JSON and a final newline, as links are written. */
export function envelopeText(envelope: DsseEnvelope): string {
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

/**
 * Who signed, as an identity URI for the predicates that name one (SLSA's builder.id, a VSA's verifier.id):
 * an SVID's SPIFFE ID (its URI SAN); for a static key, `urn:evident:keyid:<keyid>`, the documented fallback
 * (a key has no name of its own; its keyid is what a layout knows it by).
 */
export function signerUri(signer: Signer): string {
  if (signer.certificate !== undefined) {
    const san = new X509Certificate(signer.certificate).subjectAltName ?? '';
    const spiffe = san
      .split(',')
      .map((s) => s.trim())
      .find((s) => s.startsWith('URI:spiffe://'));
    if (spiffe !== undefined) return spiffe.slice('URI:'.length);
  }
  return `urn:evident:keyid:${signer.keyid}`;
}
