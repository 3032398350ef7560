import { createHash } from 'node:crypto';
import { IdentityCache } from '../../crypto/identity-cache.js';
import type { KeyDict } from '../../crypto/key-dict.js';
import type { PublicKey } from '../../crypto/keys.js';
import { MAX_TIMESTAMPS_PER_SIGNATURE, timestampedBytes } from '../../crypto/signature-timestamps.js';
import type { X509Certificate } from '../../crypto/x509/index.js';
import { verifyTimestampToken, type TimestampFailure } from '../../time/verify.js';
import { formatExpires } from '../models/expires.js';
import type { Layout } from '../models/types.js';
import { certificateOf } from '../models/ca-certificate.js';
import type { LoadedMetadata } from './metadata.js';

/**
 * When a signature was made, by the RFC 3161 tokens on it (docs/trusted-time.md, "Verifying at the
 * signing time"): each token is checked against the layout's `timestampauthorities`, over the bytes of
 * the signature it is on, and one that verifies says the signature existed at its genTime. Loaded only
 * for a signature whose tokens matter (a certificate signer's, or any in a step that requires them).
 */

/** A token that vouches for a signature. */
export interface TimestampEvidence {
  /** Its place among the signature's tokens, from 1 (as messages name it). */
  readonly index: number;
  /** When the TSA saw the signature. */
  readonly genTime: Date;
  /** The TSA certificate's subject. */
  readonly tsa: string;
  /** The keyid, in the layout's `timestampauthorities`, of the CA its chain ends at. */
  readonly root: string;
  /** The token's serial number, hex. */
  readonly serial: string;
  readonly policy: string;
}

/** What a signature's tokens say. */
export interface SignatureTimestamps {
  /** The tokens that count, in the order they are on the signature. */
  readonly valid: readonly TimestampEvidence[];
  /** Why each other token does not count, one line each naming it: `timestamp 2 of signature by …: …`. */
  readonly problems: readonly string[];
}

/** The verification time, and whether it was given (--verify-time) or is the clock's. */
export interface VerificationTime {
  readonly time: Date;
  readonly given: boolean;
}

/** A verdict on one token over one signature's bytes, as much as is kept of it. */
type Verdict =
  | {
      readonly ok: true;
      readonly genTime: Date;
      readonly tsa: string;
      readonly root: string;
      readonly serial: string;
      readonly policy: string;
    }
  | { readonly ok: false; readonly problem: string };

/** The anchors a layout trusts for time-stamps, and the verdicts on tokens reached under them. */
export interface TimestampTrust {
  readonly anchors: readonly { readonly keyid: string; readonly cert: X509Certificate }[];
  /**
   * Verdicts by the hash of token, signature and its encoding: a link read twice (by its keyid and again for its
   * certificate) or checked by two steps has each token verified once. At most MAX_VERDICTS, as long as
   * the layout.
   */
  readonly verdicts: Map<string, Verdict>;
}

/** Verdicts kept per layout: far more tokens than one verification examines, and a bound on a process that verifies for months. */
const MAX_VERDICTS = 4096;

const trusts = new IdentityCache<Record<string, KeyDict>, TimestampTrust>();

/**
 * The layout's `timestampauthorities` as certificates, with their cache of verdicts; undefined when it
 * trusts none (tokens then count for nothing, and a step cannot require them: models/layout.ts).
 *
 * @throws when a certificate the layout's validation accepted (OpenSSL) cannot be read by the X.509 library
 */
export function layoutTimestampTrust(layout: Layout): TimestampTrust | undefined {
  const dicts = layout.timestampauthorities;
  if (dicts === undefined || Object.keys(dicts).length === 0) return undefined;
  return trusts.get(dicts, (d) => ({
    anchors: Object.entries(d).map(([keyid, dict]) => ({ keyid, cert: certificateOf(dict) })),
    verdicts: new Map(),
  }));
}

/**
 * Checks the tokens on the signatures `key` made in `metadata` (metadata.timestampedBy: the entry that
 * counts for the key, each token over that entry's `sig`), at most MAX_TIMESTAMPS_PER_SIGNATURE of them.
 * A token counts when it verifies (verifyTimestampToken: the TSA's signature, its certificate chaining at
 * genTime to one of the layout's anchors, the message imprint being the signature's hash) and its genTime
 * is not after the verification time: a verdict replayed as of --verify-time T must not rest on a token
 * that did not exist at T. `who` names the signer in the problems.
 */
export function signatureTimestamps(
  metadata: Pick<LoadedMetadata, 'format' | 'timestampedBy'>,
  key: PublicKey,
  who: string,
  trust: TimestampTrust | undefined,
  at: VerificationTime,
): SignatureTimestamps {
  const encoding = metadata.format === 'dsse' ? 'base64' : 'hex';
  const tokens = metadata
    .timestampedBy(key)
    .flatMap((entry) => (entry.timestamps ?? []).map((t) => ({ data: t.data, sig: entry.sig })))
    .slice(0, MAX_TIMESTAMPS_PER_SIGNATURE);
  const valid: TimestampEvidence[] = [];
  const problems: string[] = [];
  tokens.forEach((token, i) => {
    const name = `timestamp ${i + 1} of signature by ${who}`;
    if (trust === undefined) {
      problems.push(`${name}: the layout trusts no time-stamping authority (timestampauthorities)`);
      return;
    }
    const verdict = verdictOf(trust, token.data, token.sig, encoding);
    if (!verdict.ok) problems.push(`${name}: ${verdict.problem}`);
    else if (verdict.genTime.getTime() > at.time.getTime()) {
      problems.push(
        `${name}: its genTime ${formatExpires(verdict.genTime)} is after the verification time ${formatExpires(at.time)}${at.given ? ' (--verify-time)' : ''}, when it did not exist yet`,
      );
    } else {
      const { genTime, tsa, root, serial, policy } = verdict;
      valid.push({ index: i + 1, genTime, tsa, root, serial, policy });
    }
  });
  return { valid, problems };
}

function verdictOf(trust: TimestampTrust, data: string, sig: string, encoding: 'hex' | 'base64'): Verdict {
  // the encoding too: a hex string is also base64, of other bytes
  const id = createHash('sha256').update(`${encoding}\n${data}\n${sig}`).digest('hex');
  let verdict = trust.verdicts.get(id);
  if (verdict === undefined) {
    const r = verifyTimestampToken(
      Buffer.from(data, 'base64'),
      timestampedBytes(sig, encoding),
      trust.anchors.map((a) => a.cert),
    );
    verdict = r.ok
      ? {
          ok: true,
          genTime: r.genTime,
          tsa: r.tsaCertificate.subject,
          root: trust.anchors.find((a) => a.cert === r.chain[r.chain.length - 1])?.keyid ?? '',
          serial: r.serial,
          policy: r.policy,
        }
      : { ok: false, problem: problemOf(r) };
    // a long-lived verifier (a deployment gate) keeps the layout for months: the oldest verdict goes first
    if (trust.verdicts.size >= MAX_VERDICTS) trust.verdicts.delete(trust.verdicts.keys().next().value as string);
    trust.verdicts.set(id, verdict);
  }
  return verdict;
}

/** What is wrong with a token, in words a person acts on; the verifier's own message in brackets. */
function problemOf(failure: TimestampFailure): string {
  switch (failure.reason) {
    case 'MALFORMED':
      return `is not a readable RFC 3161 time-stamp token (${failure.message})`;
    case 'UNTRUSTED':
      return `not signed by a TSA the layout trusts (${failure.message})`;
    case 'MESSAGE_IMPRINT':
      return 'time-stamps other bytes than this signature (its message imprint is not the hash of the signature)';
    case 'TSA_CERTIFICATE':
      return `is not signed by a time-stamping authority's certificate (${failure.message})`;
    case 'TSA_CERTIFICATE_VALIDITY':
      return `was made outside its TSA certificate's validity (${failure.message})`;
    default:
      // SIGNATURE, MESSAGE_DIGEST, SIGNING_CERTIFICATE, SIGNER, CONTENT_TYPE, ALGORITHM: the token itself is not sound
      return `is not a valid token, it may have been altered (${failure.message})`;
  }
}
