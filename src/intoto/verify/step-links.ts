import { GpgPublicKey } from '../../crypto/gpg/public-key.js';
import type { PublicKey } from '../../crypto/keys.js';
import { isEvidentError } from '../../errors.js';
import { checkJsonDepth } from '../../util/strict-json.js';
import { layoutKey } from '../models/layout-keys.js';
import { linkFileName } from '../models/link.js';
import type { Layout, Signature, Step } from '../models/types.js';
import type { CertificateSigner, LayoutCas, SignerClock } from './cert-signer.js';
import { functionaryFiles } from './functionary-files.js';
import { loadSignedMetadata, loadSignedMetadataBytes, type LoadedMetadata } from './metadata.js';
import type { SignatureTimestamps, TimestampEvidence } from './signature-time.js';
import { missingTimestamp } from './timestamp-requirement.js';
import { within, type LinkSource } from './source.js';

/** Who a counted link is by: a functionary key of the layout, or a certificate the step's constraints accept. */
export interface LinkSigner {
  /**
   * What thresholds count, once each: the keyid of a static key, the identity of a certificate. No two
   * signers have the same key (PublicKey.fingerprint), however differently their keyids or certificates put it.
   */
  readonly id: string;
  /** How the report names the signer: the short keyid, or the SPIFFE ID (else the subject). */
  readonly shown: string;
  /** The key that made the signature. */
  readonly key: PublicKey;
  readonly file: string;
  readonly certificate?: CertificateSigner;
  /**
   * The RFC 3161 token that vouches for when the signature was made: the one a certificate was checked
   * at, or for a static key in a step that requires timestamps, the first valid one.
   */
  readonly timestamp?: TimestampEvidence;
}

/** The links of one step that count: validly signed by an authorized functionary, one per signer identity. */
export interface StepLinks {
  /** Signer id → its link (or sublayout): the step's `pubkeys` in order, then certificate signers by file name. */
  readonly links: Map<string, LoadedMetadata>;
  /** Signer id → who signed (a sublayout is verified with its signer's key). */
  readonly signers: Map<string, LinkSigner>;
  /** Files that were found but do not count, and why. */
  readonly ignored: { file: string; reason: string }[];
  /** A file that cannot be used at all (malformed, too large): the reference fails on it, so do we. */
  readonly errors: { file: string; reason: string }[];
}

export interface LoadOptions {
  readonly maxLinkBytes: number;
  /** More intermediate CA certificates (PEM) for chains: VerifyOptions.intermediateCerts. */
  readonly intermediateCerts?: readonly string[];
  /** The instant certificates must be valid at when their signature has no valid token (the verification time). */
  readonly time: Date;
  /** Whether `time` was given (--verify-time) rather than taken from the clock, for messages. */
  readonly timeGiven: boolean;
}

type Loaded =
  { readonly ok: true; readonly metadata: LoadedMetadata } | { readonly ok: false; readonly fatal: boolean; readonly reason: string };

/**
 * Loads the links of `step`. For static keys, as the reference's `load_links_for_layout` and
 * `verify_link_signature_thresholds` do together: for every keyid the step authorizes, the file
 * `<step>.<keyid[:8]>.link` (in `dir`) is read if it exists and kept only if that very key signed it;
 * files named after anybody else are not read for this; a link naming another step is ignored. When the step has `cert_constraints`, as
 * in-toto-golang does, every `<step>.*.link` is read as well and each signature carrying a certificate
 * is checked (cert-signer.ts); the file name decides nothing, and the link must name this step.
 */
export async function loadStepLinks(layout: Layout, step: Step, source: LinkSource, dir: string, options: LoadOptions): Promise<StepLinks> {
  const result: StepLinks = { links: new Map(), signers: new Map(), ignored: [], errors: [] };
  const stamps = new TimestampChecks(layout, options, result);
  const readByKey = new Set<string>();
  const byKey: SignersByKey = new Map();
  // a keyid missing from `keys` names nobody: both references accept the layout and skip it; an OpenPGP
  // key's links may be named after its subkeys (functionary-files.ts)
  for (const { keyid, fileKeyid } of functionaryFiles(layout, step)) {
    const dict = layout.keys[keyid]!;
    const path = keyedLinkPath(step, fileKeyid, dir);
    const shown = source.describe(path);
    let key: PublicKey;
    try {
      key = layoutKey(dict, `keys.${keyid}`);
      if (key.keyid !== keyid) throw new Error(`the key listed under ${keyid.slice(0, 8)} has keyid ${key.keyid.slice(0, 8)}`);
    } catch (e) {
      result.errors.push({ file: shown, reason: `functionary key ${keyid.slice(0, 8)} is unusable: ${(e as Error).message}` });
      continue;
    }
    const loaded = await load(source, path, options.maxLinkBytes);
    if (loaded === undefined) continue;
    readByKey.add(path);
    if (!loaded.ok) {
      (loaded.fatal ? result.errors : result.ignored).push({ file: shown, reason: loaded.reason });
      continue;
    }
    if (!loaded.metadata.signedBy(key)) {
      const expired = key instanceof GpgPublicKey ? key.expiryProblem(loaded.metadata.signatures) : undefined;
      result.ignored.push({ file: shown, reason: expired ?? `has no valid signature by ${keyid.slice(0, 8)}` });
      continue;
    }
    // Stricter than the reference: a functionary of two steps must not have one step's link pass for the
    // other's by a renamed file (in-toto-golang checks this too).
    const signed = loaded.metadata.signed;
    if (signed._type === 'link' && signed.name !== step.name) {
      result.ignored.push({ file: shown, reason: `is the link of step '${signed.name}', not of ${step.name}` });
      continue;
    }
    // a static key has no validity to check at a time: its tokens matter only when the step requires them
    let timestamp: TimestampEvidence | undefined;
    if (step.require_timestamps === true) {
      const tokens = await stamps.of(loaded.metadata, key, keyid.slice(0, 8));
      timestamp = tokens.valid[0];
      if (timestamp === undefined) {
        result.ignored.push({ file: shown, reason: missingTimestamp(step.name, `key ${keyid.slice(0, 8)}`, tokens) });
        continue;
      }
    }
    // a layout listing one key under two keyids is refused when parsed; this holds for any Layout object
    const same = byKey.get(key.fingerprint);
    if (same !== undefined) {
      result.ignored.push({ file: shown, reason: countedOnce(same) });
      continue;
    }
    const signer: LinkSigner = { id: keyid, shown: keyid.slice(0, 8), key, file: shown, ...(timestamp ? { timestamp } : {}) };
    result.links.set(keyid, loaded.metadata);
    result.signers.set(keyid, signer);
    byKey.set(key.fingerprint, signer);
  }
  if (step.cert_constraints !== undefined && step.cert_constraints.length > 0) {
    await loadCertificateLinks(layout, step, source, dir, options, { readByKey, byKey, stamps }, result);
  }
  return result;
}

/**
 * The tokens on signatures, checked against the layout's time-stamping authorities (signature-time.ts):
 * that module, and the ASN.1 libraries under it, are loaded at the first signature that carries tokens
 * and needs them, never for a layout that trusts no TSA.
 */
class TimestampChecks {
  private check?: (metadata: LoadedMetadata, key: PublicKey, who: string) => SignatureTimestamps;
  private readonly trusted: boolean;

  constructor(
    private readonly layout: Layout,
    private readonly options: LoadOptions,
    private readonly result: StepLinks,
  ) {
    this.trusted = Object.keys(layout.timestampauthorities ?? {}).length > 0;
  }

  /** What the tokens on `key`'s signatures in `metadata` say; nothing when it has none or the layout trusts no TSA. */
  async of(metadata: LoadedMetadata, key: PublicKey, who: string): Promise<SignatureTimestamps> {
    const checker = await this.checkerFor(metadata);
    return checker?.(metadata, key, who) ?? NO_TOKENS;
  }

  /** The checker when `metadata` has tokens to look at (loaded on first need); undefined otherwise. */
  async checkerFor(
    metadata: LoadedMetadata,
  ): Promise<((metadata: LoadedMetadata, key: PublicKey, who: string) => SignatureTimestamps) | undefined> {
    if (!this.trusted || !metadata.signatures.some((s) => (s.timestamps?.length ?? 0) > 0)) return undefined;
    if (this.check === undefined) {
      const { layoutTimestampTrust, signatureTimestamps } = await import('./signature-time.js');
      const at = { time: this.options.time, given: this.options.timeGiven };
      let trust;
      try {
        trust = layoutTimestampTrust(this.layout);
      } catch (e) {
        // the layout was validated with OpenSSL; a certificate only the X.509 parser refuses ends up here
        this.result.errors.push({ file: 'layout', reason: `its timestampauthorities cannot be used: ${(e as Error).message}` });
        trust = undefined;
      }
      this.check = (m, key, who) => signatureTimestamps(m, key, who, trust, at);
    }
    return this.check;
  }
}

const NO_TOKENS: SignatureTimestamps = { valid: [], problems: [] };

/** The signers counted so far, by the fingerprint of their key. */
type SignersByKey = Map<string, LinkSigner>;

/** Why a link by a key already counted does not count again. */
function countedOnce(same: LinkSigner): string {
  return `is signed by the same key as ${same.shown} (${same.file}), which counts once`;
}

/** Starts reading every file loadStepLinks will look for by key in `dir`, for all the layout's steps at once. */
export function prefetchStepLinks(layout: Layout, source: LinkSource, dir: string): void {
  const withLinks = layout.steps.filter((s) => s.expected_vsa === undefined);
  source.prefetch?.(withLinks.flatMap((s) => functionaryFiles(layout, s).map((f) => keyedLinkPath(s, f.fileKeyid, dir))));
}

/** `<step>.<keyid[:8]>.link` in the folder `dir`. */
function keyedLinkPath(step: Step, keyid: string, dir: string): string {
  return within(dir, linkFileName(step.name, keyid));
}

async function loadCertificateLinks(
  layout: Layout,
  step: Step,
  source: LinkSource,
  dir: string,
  options: LoadOptions,
  seen: { readonly readByKey: ReadonlySet<string>; readonly byKey: SignersByKey; readonly stamps: TimestampChecks },
  result: StepLinks,
): Promise<void> {
  const { readByKey, byKey, stamps } = seen;
  // the X.509 library is loaded only for layouts that need it: it costs half a second of start-up
  const { checkCertificateSigner, layoutCas } = await import('./cert-signer.js');
  let cas: LayoutCas;
  try {
    cas = layoutCas(layout, options.intermediateCerts);
  } catch (e) {
    // the layout was validated with OpenSSL; a certificate only the X.509 parser refuses ends up here
    result.errors.push({ file: 'layout', reason: `its rootcas or intermediatecas cannot be used: ${(e as Error).message}` });
    return;
  }
  const prefix = `${step.name}.`;
  const names = (await source.list(dir)).filter(
    (n) => n.startsWith(prefix) && n.endsWith('.link') && n.length >= prefix.length + '.link'.length,
  );
  for (const name of names) {
    const path = within(dir, name);
    const shown = source.describe(path);
    const loaded = await load(source, path, options.maxLinkBytes);
    if (loaded === undefined) continue;
    if (!loaded.ok) {
      // a file the layout's keys did not lead to is only a candidate: a stray one does not fail the step
      if (!readByKey.has(path)) result.ignored.push({ file: shown, reason: loaded.reason });
      continue;
    }
    const metadata = loaded.metadata;
    const withCert = metadata.signatures.filter((s): s is Signature & { cert: string } => s.cert !== undefined);
    if (withCert.length === 0) {
      if (readByKey.has(path)) continue;
      const keyids = [...new Set(metadata.signatures.map((s) => s.keyid.slice(0, 8)))];
      const by = keyids.length > 0 ? `key ${keyids.join(', ')}` : 'nobody';
      result.ignored.push({
        file: shown,
        reason: `is signed by ${by} without a certificate; ${step.name} requires a signer identity (${wanted(step)})`,
      });
      continue;
    }
    if (metadata.signed._type !== 'link') {
      result.ignored.push({
        file: shown,
        reason: 'is a sublayout signed by a certificate; a sublayout must be signed by a functionary key of the layout',
      });
      continue;
    }
    if (metadata.signed.name !== step.name) {
      result.ignored.push({ file: shown, reason: `is the link of step '${metadata.signed.name}', not of ${step.name}` });
      continue;
    }
    const examined = certificateSignaturesToExamine(withCert);
    if (examined.length < withCert.length) {
      result.ignored.push({
        file: shown,
        reason: `carries ${withCert.length} signatures with certificates; only the first ${examined.length} distinct ones are examined`,
      });
    }
    const checker = await stamps.checkerFor(metadata);
    const clock: SignerClock = {
      time: options.time,
      required: step.require_timestamps === true,
      ...(checker !== undefined ? { timestamps: (key: PublicKey, who: string) => checker(metadata, key, who) } : {}),
    };
    for (const signature of examined) {
      // a functionary key that also has a certificate is one signer, already counted by its keyid
      if (result.signers.has(signature.keyid)) continue;
      const verdict = checkCertificateSigner(metadata, signature, step, cas, clock);
      if (!verdict.ok) {
        result.ignored.push({ file: shown, reason: verdict.reason });
        continue;
      }
      const signer = verdict.signer;
      if (result.signers.has(signer.identity)) {
        result.ignored.push({ file: shown, reason: `is another link by ${signer.identity}, which counts once` });
        continue;
      }
      // one key certified under two identities, or a functionary key listed under another keyid than its certificate's
      const same = byKey.get(signer.key.fingerprint);
      if (same !== undefined) {
        if (same.file !== shown) result.ignored.push({ file: shown, reason: countedOnce(same) });
        continue;
      }
      const counted: LinkSigner = {
        id: signer.identity,
        shown: signer.identity,
        key: signer.key,
        file: shown,
        certificate: signer,
        ...(signer.timestamp !== undefined ? { timestamp: signer.timestamp } : {}),
      };
      result.links.set(signer.identity, metadata);
      result.signers.set(signer.identity, counted);
      byKey.set(signer.key.fingerprint, counted);
    }
  }
}

/**
 * Checking a certificate signature costs about a millisecond (parse, chain, signature), and a link can carry
 * any number: the same signature repeated 20 000 times once held a verification for 19 s. A signer is one
 * (keyid, certificate) pair and the first of its signatures decides, as for keys; a link carries one or two.
 */
const MAX_CERTIFICATE_SIGNATURES = 16;

function certificateSignaturesToExamine<T extends { keyid: string; cert: string }>(signatures: readonly T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const s of signatures) {
    const signer = `${s.keyid}\n${s.cert}`;
    if (seen.has(signer)) continue;
    seen.add(signer);
    out.push(s);
    if (out.length === MAX_CERTIFICATE_SIGNATURES) break;
  }
  return out;
}

/** What the step's constraints ask for, in a few words: the URIs (SPIFFE IDs) they name, else the common names. */
function wanted(step: Step): string {
  const names = (step.cert_constraints ?? []).map((c) =>
    c.uris.length > 0 && !(c.uris.length === 1 && c.uris[0] === '*')
      ? c.uris.join(' ')
      : c.common_name === '*'
        ? 'any certificate of its roots'
        : `CN=${c.common_name}`,
  );
  return [...new Set(names)].join(' or ');
}

/** Reads and parses one file; undefined when it is not there (the reference skips it silently). */
async function load(source: LinkSource, path: string, maxLinkBytes: number): Promise<Loaded | undefined> {
  const read = await source.read(path);
  switch (read.kind) {
    case 'missing':
      return undefined;
    case 'unreadable':
      return { ok: false, fatal: false, reason: `cannot be read (${read.reason})` };
    case 'not-regular':
      return { ok: false, fatal: false, reason: read.problem };
    case 'too-large':
      return {
        ok: false,
        fatal: true,
        reason: `is ${read.size} bytes, over the ${maxLinkBytes}-byte limit for link files (raise it with --max-link-size)`,
      };
    case 'malformed':
      return { ok: false, fatal: true, reason: read.reason };
  }
  const shown = source.describe(path);
  try {
    if (read.kind === 'json') checkJsonDepth(read.value, shown); // text is checked as it is parsed; a value handed over was not
    const metadata = read.kind === 'bytes' ? loadSignedMetadataBytes(read.bytes, shown) : loadSignedMetadata(read.value, shown);
    return { ok: true, metadata };
  } catch (e) {
    if (!isEvidentError(e)) throw e;
    return { ok: false, fatal: true, reason: `is malformed: ${e.message.split('\n').join('; ')}` };
  }
}
