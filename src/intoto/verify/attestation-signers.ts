import { envelopeSignaturesBy, verifyEnvelope, type DsseEnvelope, type DsseSignature } from '../../crypto/dsse.js';
import type { PublicKey } from '../../crypto/keys.js';
import { layoutKey } from '../models/layout-keys.js';
import type { ExpectedPredicate, Inspection, Layout, Step } from '../models/types.js';
import type { Attestation } from './attestation-pool.js';
import type { LoadedMetadata } from './metadata.js';
import { MAX_TIMESTAMPED_ENTRIES } from './metadata.js';
import type { SignatureTimestamps, TimestampEvidence } from './signature-time.js';
import { missingTimestamp } from './timestamp-requirement.js';

/** The functionary whose signature makes an attestation count, as rules see it (`signer`, `timestamp`). */
export interface AttestationSigner {
  readonly keyid: string;
  /** The key that made the signature. */
  readonly key: PublicKey;
  /** What thresholds count, once each (step-links.ts' LinkSigner.id): the keyid of a layout key, a certificate's identity. */
  readonly identity: string;
  /** The SPIFFE ID of a certificate signer; null for a key of the layout. */
  readonly spiffeId: string | null;
  /** How the report names it: the short keyid, or the certificate's identity. */
  readonly shown: string;
  /** The valid RFC 3161 token on its signature, from a TSA the layout trusts, if any. */
  readonly timestamp?: TimestampEvidence;
}

export interface SignerTime {
  /** The verification time: certificates without a token are checked at it, tokens after it do not count. */
  readonly time: Date;
  readonly given: boolean;
}

export type SignerVerdict = { readonly ok: true; readonly signer: AttestationSigner } | { readonly ok: false; readonly reason: string };

const NO_TOKENS: SignatureTimestamps = { valid: [], problems: [] };

/** Certificate signatures examined per attestation (as for links, step-links.ts: each costs a chain check). */
const MAX_CERTIFICATE_SIGNATURES = 16;

/** What verification asks of a DSSE envelope's signatures, as of a link's: whether a key signed it, and its entries by that key that carry tokens. */
export function envelopeSigning(envelope: DsseEnvelope): Pick<LoadedMetadata, 'format' | 'signedBy' | 'timestampedBy'> {
  return {
    format: 'dsse',
    signedBy: (key) => verifyEnvelope(envelope, [key]).length > 0,
    timestampedBy: (key) => envelopeSignaturesBy(envelope, key, (s) => (s.timestamps?.length ?? 0) > 0, MAX_TIMESTAMPED_ENTRIES),
  };
}

/**
 * Who, among the functionaries of `predicate`, signed the attestation: the keys its `functionaries` name
 * (default: the step's `pubkeys`), in that order, the first whose signature verifies; else, when it names
 * none and the step takes certificate signers (`cert_constraints`), a certificate signature that chains to
 * the layout's roots and satisfies a constraint, as a link's would (cert-signer.ts). As for links, a step
 * that requires timestamps counts only a signature with a valid token. Anyone else's signature makes it
 * count for nothing: the reason says who signed it. `intermediateCerts` (PEM, VerifyOptions.intermediateCerts)
 * complete certificate signers' chains as they do for links.
 */
export async function attestationSigner(
  attestation: Attestation,
  predicate: ExpectedPredicate,
  item: Step | Inspection,
  layout: Layout,
  at: SignerTime,
  intermediateCerts: readonly string[],
): Promise<SignerVerdict> {
  const envelope = attestation.envelope;
  const signing = envelopeSigning(envelope);
  const step = item._type === 'step' ? item : undefined;
  const required = step?.require_timestamps === true;
  const trusted = Object.keys(layout.timestampauthorities ?? {}).length > 0;
  const problems: string[] = [];
  // the tokens' checker is loaded only for an attestation whose tokens the layout can check, as for links
  let tokens: (key: PublicKey, who: string) => SignatureTimestamps = () => NO_TOKENS;
  if (trusted && envelope.signatures.some((s) => (s.timestamps?.length ?? 0) > 0)) {
    const { layoutTimestampTrust, signatureTimestamps } = await import('./signature-time.js');
    const trust = layoutTimestampTrust(layout);
    tokens = (key, who) => signatureTimestamps(signing, key, who, trust, at);
  }

  const keyids = predicate.functionaries ?? step?.pubkeys ?? [];
  for (const keyid of keyids) {
    const dict = Object.hasOwn(layout.keys, keyid) ? layout.keys[keyid] : undefined;
    if (dict === undefined) continue;
    let key: PublicKey;
    try {
      key = layoutKey(dict, `keys.${keyid}`);
    } catch {
      continue; // the step's links say so; an attestation has nothing to add
    }
    const short = keyid.slice(0, 8);
    if (!signing.signedBy(key)) {
      if (envelope.signatures.some((sig) => sig.keyid === keyid))
        problems.push(`its signature by ${short} does not verify: the statement was changed after it was signed, or another key signed it`);
      continue;
    }
    const stamps = tokens(key, short);
    const timestamp = stamps.valid[0];
    if (required && timestamp === undefined) {
      problems.push(missingTimestamp(item.name, `key ${short}`, stamps));
      continue;
    }
    return {
      ok: true,
      signer: { keyid, key, identity: keyid, spiffeId: null, shown: short, ...(timestamp !== undefined ? { timestamp } : {}) },
    };
  }

  if (predicate.functionaries === undefined && step !== undefined && (step.cert_constraints?.length ?? 0) > 0) {
    const withCert = certificateSignatures(envelope.signatures);
    if (withCert.length > 0) {
      // the X.509 library is loaded only for attestations signed with certificates
      const { checkCertificateSigner, layoutCas } = await import('./cert-signer.js');
      const cas = layoutCas(layout, intermediateCerts);
      for (const signature of withCert) {
        const verdict = checkCertificateSigner(signing, signature, step, cas, { time: at.time, required, timestamps: tokens });
        if (!verdict.ok) {
          problems.push(verdict.reason);
          continue;
        }
        const s = verdict.signer;
        const spiffeId = s.identity.split(' ').find((u) => u.startsWith('spiffe://')) ?? null;
        return {
          ok: true,
          signer: {
            keyid: s.key.keyid,
            key: s.key,
            identity: s.identity,
            spiffeId,
            shown: s.identity,
            ...(s.timestamp !== undefined ? { timestamp: s.timestamp } : {}),
          },
        };
      }
    }
  }
  // a functionary's keyid on a signature that does not verify: say that first, it is the one to look into
  const forged = problems.filter((p) => p.startsWith('its signature by '));
  if (forged.length > 0 && forged.length === problems.length) return { ok: false, reason: forged.join('; ') };
  const by = [...new Set(envelope.signatures.map((s) => (s.keyid === '' ? 'a signature without keyid' : s.keyid.slice(0, 8))))];
  const who = keyids.map((k) => k.slice(0, 8));
  if (predicate.functionaries === undefined) for (const c of step?.cert_constraints ?? []) who.push(...c.uris);
  return {
    ok: false,
    reason:
      `is signed by ${by.length > 0 ? by.join(', ') : 'nobody'}, not by a functionary of ${item.name} for it (${who.length > 0 ? who.join(', ') : 'none'})` +
      // cert-signer.ts speaks of links
      (problems.length > 0 ? `; ${problems.map((p) => p.replace(/^link by /, 'the certificate of ')).join('; ')}` : ''),
  };
}

function certificateSignatures(signatures: readonly DsseSignature[]): (DsseSignature & { cert: string })[] {
  const seen = new Set<string>();
  const out: (DsseSignature & { cert: string })[] = [];
  for (const s of signatures) {
    if (s.cert === undefined || seen.has(`${s.keyid}\n${s.cert}`)) continue;
    seen.add(`${s.keyid}\n${s.cert}`);
    out.push(s as DsseSignature & { cert: string });
    if (out.length === MAX_CERTIFICATE_SIGNATURES) break;
  }
  return out;
}
