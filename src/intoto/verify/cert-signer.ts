import { createPublicKey } from 'node:crypto';
import { PublicKey } from '../../crypto/keys.js';
import {
  certificateAttributes,
  chainUsageProblem,
  parseCertificatesPem,
  verifyCertificateChain,
  X509ChainError,
  type X509Certificate,
} from '../../crypto/x509/index.js';
import { certificateOf } from '../models/ca-certificate.js';
import { formatExpires } from '../models/expires.js';
import type { Layout, Step } from '../models/types.js';
import { constraintProblem } from './cert-constraints.js';
import type { LoadedMetadata } from './metadata.js';
import type { SignatureTimestamps, TimestampEvidence } from './signature-time.js';
import { missingTimestamp } from './timestamp-requirement.js';

/** The CAs a layout trusts for certificate signers. */
export interface LayoutCas {
  /** Root CA certificates with the keyid each is listed under in `rootcas`. */
  readonly roots: readonly { readonly keyid: string; readonly cert: X509Certificate }[];
  readonly intermediates: readonly X509Certificate[];
}

/** The most certificates one signature may carry (leaf included); real chains have two or three. */
const MAX_CARRIED = 8;

/**
 * The layout's `rootcas` and `intermediatecas` as certificates (validated when the layout was parsed),
 * each parsed once per dict however many steps ask (crypto/identity-cache.ts).
 */
export function layoutCas(layout: Layout, moreIntermediates: readonly string[] = []): LayoutCas {
  return {
    roots: Object.entries(layout.rootcas ?? {}).map(([keyid, dict]) => ({ keyid, cert: certificateOf(dict) })),
    intermediates: [...Object.values(layout.intermediatecas ?? {}).map(certificateOf), ...moreIntermediates.flatMap(parseCertificatesPem)],
  };
}

/** A certificate signer the step accepts. */
export interface CertificateSigner {
  /** What thresholds count: the SPIFFE ID (URI SAN), else the certificate's subject. */
  readonly identity: string;
  /** The certificate's key, which made the signature (a short-lived key: never what is counted). */
  readonly key: PublicKey;
  readonly subject: string;
  /** The keyid (in `rootcas`) of the root its chain ends at. */
  readonly root: string;
  readonly notAfter: Date;
  /** The instant its chain was checked at: a token's genTime, or the verification time. */
  readonly checkedAt: Date;
  /** The token whose genTime that is; absent when it is the verification time. */
  readonly timestamp?: TimestampEvidence;
}

/** The instants a certificate signer may be checked at. */
export interface SignerClock {
  /** The verification time (VerifyOptions.verifyTime, or now). */
  readonly time: Date;
  /** Whether a signature counts only at a token's genTime (the step's `require_timestamps`). */
  readonly required: boolean;
  /**
   * What the tokens on the signatures `key` made say (signature-time.ts); absent when none is to be looked
   * at (the signature has none, or the layout trusts no time-stamping authority).
   */
  readonly timestamps?: (key: PublicKey, who: string) => SignatureTimestamps;
}

/** One instant to check a chain at, and the token it comes from. */
interface Moment {
  readonly time: Date;
  readonly timestamp?: TimestampEvidence;
}

export type CertificateVerdict =
  { readonly ok: true; readonly signer: CertificateSigner } | { readonly ok: false; readonly reason: string };

/**
 * Whether the signature entry `signature` of `metadata` (one that carries a `cert`) makes its signer a
 * functionary of `step`, as in-toto-golang's VerifyLinkSignatureThesholds does for a keyid that is not
 * among the step's pubkeys: the leaf's key is the signature's key and verifies it; the leaf chains to
 * one of the layout's root CAs through the intermediates carried after it or the layout's, every
 * certificate valid at one instant and, where it restricts extended key usage, allowing serverAuth (Go's
 * default, which in-toto-golang verifies with); and the leaf satisfies one of the step's `cert_constraints`. The
 * instant is the genTime of a valid token on the signature (the first at which the chain holds), else
 * the verification time unless the step requires timestamps: a token can only add a time the signature
 * is known to have existed at, never take the verification time away (stripping it would do that). The
 * reason for a refusal names the signer, and each token that did not count, so a person knows which
 * identity did what.
 */
export function checkCertificateSigner(
  metadata: Pick<LoadedMetadata, 'signedBy'>,
  signature: { readonly keyid: string; readonly cert: string },
  step: Step,
  cas: LayoutCas,
  clock: SignerClock,
): CertificateVerdict {
  let chain: X509Certificate[];
  try {
    chain = parseCertificatesPem(signature.cert);
  } catch (e) {
    // parsing reads every part of each certificate (pem.ts): nothing below throws for a malformed one
    return { ok: false, reason: `its signature's cert: ${(e as Error).message}` };
  }
  // path building tries every carried certificate at every level: a crafted long list must not make it slow
  if (chain.length > MAX_CARRIED)
    return { ok: false, reason: `its signature carries ${chain.length} certificates, more than the ${MAX_CARRIED} a chain may have` };
  const [leaf, ...carried] = chain as [X509Certificate, ...X509Certificate[]];
  const attributes = certificateAttributes(leaf);
  const identity = attributes.uris.length > 0 ? [...attributes.uris].sort().join(' ') : attributes.subject;
  let key: PublicKey;
  try {
    key = PublicKey.fromKeyObject(createPublicKey({ key: Buffer.from(leaf.publicKey.rawData), format: 'der', type: 'spki' }));
  } catch (e) {
    return { ok: false, reason: `the certificate of ${identity} has a key evident cannot use (${(e as Error).message})` };
  }
  if (key.keyid !== signature.keyid && signature.keyid !== '') {
    return {
      ok: false,
      reason: `the signature's keyid ${signature.keyid.slice(0, 8)} is not that of its certificate's key (${key.keyid.slice(0, 8)}, ${identity})`,
    };
  }
  if (!metadata.signedBy(key))
    return {
      ok: false,
      reason: `signature does not verify with the key of its certificate (${identity}): the link was altered or signed by another key`,
    };

  const stamps = clock.timestamps?.(key, identity) ?? { valid: [], problems: [] };
  const moments: Moment[] = [
    ...stamps.valid.map((timestamp) => ({ time: timestamp.genTime, timestamp })),
    ...(clock.required ? [] : [{ time: clock.time }]),
  ];
  const tokenProblems = stamps.problems.length > 0 ? `; ${stamps.problems.join('; ')}` : '';
  if (moments.length === 0) return { ok: false, reason: missingTimestamp(step.name, identity, stamps) };
  let paths: X509Certificate[][] | undefined;
  let used: Moment | undefined;
  const failures: { moment: Moment; error: X509ChainError }[] = [];
  // the same chain at each moment: only the time changes
  const anchors = { intermediates: [...carried, ...cas.intermediates], roots: cas.roots.map((r) => r.cert) };
  for (const moment of moments) {
    try {
      if (cas.roots.length === 0) throw new X509ChainError('UNKNOWN_AUTHORITY', 'the layout trusts no root CA (rootcas)');
      paths = verifyCertificateChain(leaf, { ...anchors, time: moment.time });
      used = moment;
      break;
    } catch (e) {
      if (!(e instanceof X509ChainError)) throw e;
      failures.push({ moment, error: e });
    }
  }
  if (paths === undefined || used === undefined) return { ok: false, reason: chainFailure(identity, failures) + tokenProblems };
  // in-toto-golang verifies chains with Go's default key usage, serverAuth: a certificate on the path that
  // restricts its extended key usage must allow that (or any); one without the extension allows everything
  const usable = paths.filter((p) => chainUsageProblem(p, SIGNER_USAGE) === undefined);
  if (usable.length === 0) return { ok: false, reason: usageFailure(identity, leaf, chainUsageProblem(paths[0]!, SIGNER_USAGE)!) };
  const roots = [...new Set(usable.map((p) => cas.roots.find((r) => r.cert === p[p.length - 1])!.keyid))];

  const problems: string[] = [];
  for (const constraint of step.cert_constraints ?? []) {
    const problem = constraintProblem(constraint, attributes, roots);
    if (problem === undefined) {
      const signer: CertificateSigner = {
        identity,
        key,
        subject: attributes.subject,
        root: roots[0]!,
        notAfter: leaf.notAfter,
        checkedAt: used.time,
        ...(used.timestamp !== undefined ? { timestamp: used.timestamp } : {}),
      };
      return { ok: true, signer };
    }
    problems.push(problem);
  }
  return { ok: false, reason: `link by ${identity} does not satisfy ${step.name}'s constraints (${problems.join('; or ')})` };
}

const TIME_REASONS = new Set(['CERT_EXPIRED', 'CERT_NOT_YET_VALID']);

/** The extended key usage a signer's chain must allow: Go's x509 default, which in-toto-golang verifies with. */
const SIGNER_USAGE = 'serverAuth';

function usageFailure(identity: string, leaf: X509Certificate, problem: { cert: X509Certificate; usages: string[] }): string {
  const which = problem.cert === leaf ? `certificate of ${identity}` : `issuer (${problem.cert.subject}) of the certificate of ${identity}`;
  return `${which} is restricted to extended key usage ${problem.usages.join(', ')}; a signer's chain must allow ${SIGNER_USAGE} or any usage, as in-toto-golang requires`;
}

/**
 * Why the chain holds at none of the instants tried: the first failure that has nothing to do with time
 * (no path to a root) as it is; else, when every instant finds a certificate out of its validity, each
 * instant with what was out of date then (`… (certificates checked at T, the genTime of timestamp 1 by TSA)`).
 */
function chainFailure(identity: string, failures: readonly { moment: Moment; error: X509ChainError }[]): string {
  const timeless = failures.find((f) => !TIME_REASONS.has(f.error.reason));
  if (timeless !== undefined) {
    const e = timeless.error;
    if (e.reason === 'UNKNOWN_AUTHORITY') return `certificate of ${identity} does not chain to a trusted root (${e.message})`;
    return `certificate of ${identity} does not chain to a trusted root: ${e.message}`;
  }
  const each = failures.map(({ moment, error }) => {
    const token = moment.timestamp === undefined ? '' : `, the genTime of timestamp ${moment.timestamp.index} by ${moment.timestamp.tsa}`;
    return `${error.message} (certificates checked at ${formatExpires(moment.time)}${token})`;
  });
  return `certificate of ${identity} is not valid: ${each.join('; nor: ')}`;
}
