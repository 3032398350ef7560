import { access } from 'node:fs/promises';
import { EvidentError } from '../../errors.js';
import { GpgPublicKey } from '../../crypto/gpg/public-key.js';
import type { PublicKey } from '../../crypto/keys.js';
import type { Signer } from '../../crypto/signer.js';
import { loadMetadataFile, signableBytes, verifySignedBytes } from '../models/metablock.js';
import type { Link, Metablock, MetablockSignature } from '../models/types.js';

/** The preliminary link `record start` leaves in the working folder, as the reference names it. */
export function unfinishedLinkName(step: string, keyid: string): string {
  return `.${step}.${keyid.slice(0, 8)}.link-unfinished`;
}

/** A step takes at most this long from `record start` to `record stop` unless the caller says otherwise. */
export const DEFAULT_MAX_STEP_DURATION_MS = 24 * 3600_000;

/**
 * The identity of a certificate signer (an SVID's workload), which outlives each of its certificates:
 * whether a certificate chain carried in a signature is one of its own, and its key and expiry if so.
 * Implemented by `svidIdentity` (spiffe/x509svid/signer-identity.ts).
 */
export interface SignerIdentity {
  /** How messages name it: `an SVID of spiffe://…`. */
  readonly description: string;
  certify(certificatePem: string, now: Date): { ok: true; publicKey: PublicKey; notAfter: Date } | { ok: false; why: string };
}

/**
 * Who may have signed the preliminary link for `record stop` to finish it: the signer's own key, or, for a
 * certificate signer, any certificate of the same identity (an SVID renewed during the step) that was
 * valid at some instant within the last `maxStepDurationMs`, when `record start` can have run.
 */
export interface PreliminarySigner {
  signer: Signer;
  identity?: SignerIdentity;
  maxStepDurationMs: number;
  now: Date;
}

export async function loadUnfinished(path: string, shown: string, step: string): Promise<Metablock<Link>> {
  try {
    await access(path);
  } catch {
    throw new EvidentError('BAD_USAGE', `no preliminary link for step '${step}' signed by this key: run 'evident record start' first`, {
      file: shown,
    });
  }
  const file = await loadMetadataFile(path, { displayName: shown });
  if (file.format !== 'metablock' || file.metablock.signed._type !== 'link') {
    throw new EvidentError('BAD_INPUT', 'is not a preliminary link', { file: shown });
  }
  return file.metablock as Metablock<Link>;
}

/**
 * Throws, saying which it is, unless one signature of the preliminary link was made by `expected`: signed
 * by a static key where an identity is expected, by another identity, by a certificate that is too old,
 * or changed after it was signed.
 */
export function checkPreliminarySigner(metablock: Metablock<Link>, expected: PreliminarySigner, shown: string): void {
  const refusals = new Set<string>();
  for (const signature of metablock.signatures) {
    const why = expected.identity
      ? identityRefusal(signature, metablock, expected.identity, expected)
      : keyRefusal(signature, metablock, expected.signer.publicKey);
    if (why === undefined) return;
    refusals.add(why);
  }
  const why = refusals.size === 0 ? 'the preliminary link has no signature' : [...refusals].join('; ');
  throw new EvidentError('BAD_SIGNATURE', why, { file: shown });
}

function keyRefusal(signature: MetablockSignature, metablock: Metablock<Link>, key: PublicKey): string | undefined {
  // an OpenPGP key signs by itself or by a subkey (crypto/gpg/)
  const keyids = key instanceof GpgPublicKey ? key.keyids : [key.keyid];
  if (!keyids.includes(signature.keyid))
    return `the preliminary link is not signed by this key (${key.keyid.slice(0, 8)}) but by ${signature.keyid.slice(0, 8)}`;
  return verifySignedBytes(() => signableBytes(metablock.signed), [signature], key)
    ? undefined
    : 'the preliminary link was changed after record start: its signature does not verify with this key';
}

function identityRefusal(
  signature: MetablockSignature,
  metablock: Metablock<Link>,
  identity: SignerIdentity,
  window: { maxStepDurationMs: number; now: Date },
): string | undefined {
  if (signature.cert === undefined) {
    return `the preliminary link is signed by a static key (keyid ${signature.keyid.slice(0, 8)}), not by ${identity.description}`;
  }
  const certified = identity.certify(signature.cert, window.now);
  if (!certified.ok) return `the preliminary link is not signed by ${identity.description}: ${certified.why}`;
  // An expired certificate's key may since have leaked; a signature made with it is taken only if it can
  // have been made by this step, which started at most maxStepDurationMs ago.
  const since = window.now.getTime() - window.maxStepDurationMs;
  if (certified.notAfter.getTime() < since) {
    return (
      `the preliminary link is signed by a certificate that expired at ${certified.notAfter.toISOString()}, more than ` +
      `${duration(window.maxStepDurationMs)} ago: longer than a step may take (record stop --max-step-duration)`
    );
  }
  return certified.publicKey.verify(signableBytes(metablock.signed), signature.sig)
    ? undefined
    : 'the preliminary link was changed after record start: its signature does not verify with the key of its certificate';
}

/** `90s`, `5m`, `24h`: a duration as the flag takes it, in its largest whole unit up to hours. */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 3600 === 0) return `${s / 3600}h`;
  return s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}
