import { createHash, type KeyObject } from 'node:crypto';
import { EvidentError } from '../../errors.js';
import type { KeyDict, Scheme } from '../key-dict.js';
import { keyFingerprint, PublicKey } from '../keys.js';
import { gpgKeyDictProblems, type GpgKeyDict } from './key-dict.js';
import { gpgFingerprint, gpgKeyObject } from './key-material.js';
import { isGpgSignature, verifyGpgSignature, type GpgSignature, type GpgVerificationKey } from './signature.js';

/**
 * An OpenPGP public key as the Python reference keeps it in a layout (key-dict.ts): a primary key and its
 * signing subkeys, one functionary. It is a PublicKey, so wherever verification takes a key it takes this
 * one, with the reference's rules for what it signed: the FIRST metablock signature whose keyid is the
 * primary's or a subkey's decides, it must be in the OpenPGP form and verify with that (sub)key, and that
 * key must not have expired (`creation_time + validity_period`, checked now, as the reference does).
 * Stricter than the reference: a subkey's signature also needs its primary key unexpired, as in OpenPGP.
 * Such a key makes no `sig` hex signatures and signs no DSSE envelopes: `verify` and `verifyRaw` say no.
 */
export class GpgPublicKey extends PublicKey {
  private readonly primary: GpgVerificationKey;
  private readonly subkeys: ReadonlyMap<string, GpgVerificationKey>;

  private constructor(
    readonly dict: GpgKeyDict,
    primary: KeyObject,
    subkeys: Map<string, GpgVerificationKey>,
  ) {
    // `scheme` names the reference's method; nothing signs or encodes by it, which is what a scheme is for
    super(primary, dict.method as Scheme, JSON.stringify(dict.keyval.public), dict.keyid);
    this.primary = { dict, keyObject: primary };
    this.subkeys = subkeys;
  }

  /**
   * From the dict a layout stores (validated strictly; its keyid and each subkey's must be the fingerprint
   * of the key packet its fields and creation time make, when it states that time). `where` names it.
   *
   * @throws EvidentError BAD_KEY listing what is wrong
   */
  static fromGpgDict(value: unknown, where = 'key'): GpgPublicKey {
    const problems = gpgKeyDictProblems(value, where);
    if (problems.length > 0) throw new EvidentError('BAD_KEY', problems.map(([at, what]) => `${at}: ${what}`).join('\n'));
    const dict = structuredClone(value) as GpgKeyDict;
    checkFingerprint(dict, where);
    const subkeys = new Map<string, GpgVerificationKey>();
    for (const [keyid, sub] of Object.entries(dict.subkeys ?? {})) {
      checkFingerprint(sub, `${where}.subkeys[${JSON.stringify(keyid)}]`);
      subkeys.set(keyid, { dict: sub, keyObject: gpgKeyObject(sub) });
    }
    return new GpgPublicKey(deepFreeze(dict), gpgKeyObject(dict), subkeys);
  }

  override get keytype(): string {
    return this.dict.type;
  }

  /**
   * The primary key's material, as PublicKey.fingerprint has it for any key: a functionary's OpenPGP key
   * and the same key given as PEM count once. (DSA keys, which have no JWK, by their one SPKI encoding.)
   */
  override get fingerprint(): string {
    if (this.dict.type !== 'dsa') return keyFingerprint(this.keyObject);
    return createHash('sha256')
      .update(this.keyObject.export({ type: 'spki', format: 'der' }))
      .digest('hex');
  }

  /** The fingerprints it answers to: the primary key's, then its subkeys'. */
  get keyids(): readonly string[] {
    return [this.keyid, ...this.subkeys.keys()];
  }

  /** The dict a layout stores for it (a copy). */
  toGpgDict(): GpgKeyDict {
    return structuredClone(this.dict) as GpgKeyDict;
  }

  /** An OpenPGP key has no securesystemslib dict: a layout stores toGpgDict(). */
  override toDict(): KeyDict {
    throw new EvidentError(
      'BAD_USAGE',
      `OpenPGP key ${this.keyid} is stored in a layout as the reference stores it (toGpgDict), not as a securesystemslib key`,
    );
  }

  override verify(_data: Uint8Array, _signatureHex: string): boolean {
    return false;
  }

  override verifyRaw(_data: Uint8Array, _signature: Uint8Array): boolean {
    return false;
  }

  /** The entry that decides whether it signed a metablock: the first whose keyid is its own or a subkey's. */
  decidingSignature<S extends { keyid: string }>(signatures: readonly S[]): S | undefined {
    return signatures.find((s) => s.keyid === this.keyid || this.subkeys.has(s.keyid));
  }

  /** Whether it signed the metablock whose signed bytes are `content` (the rule in the class comment). */
  signedMetablock(signatures: readonly SignatureEntry[], content: Uint8Array | (() => Uint8Array), now = new Date()): boolean {
    const signature = this.decidingSignature(signatures);
    if (signature === undefined || !isGpgSignature(signature) || this.expiredKey(signature.keyid, now) !== undefined) return false;
    const key = this.subkeys.get(signature.keyid) ?? this.primary;
    return verifyGpgSignature(signature as GpgSignature, key, typeof content === 'function' ? content() : content);
  }

  /** Why the deciding signature's key cannot sign at `now`: "key … expired at …", or undefined when it has not expired. */
  expiryProblem(signatures: readonly SignatureEntry[], now = new Date()): string | undefined {
    const signature = this.decidingSignature(signatures);
    return signature === undefined ? undefined : this.expiredKey(signature.keyid, now);
  }

  private expiredKey(keyid: string, now: Date): string | undefined {
    const keys = this.subkeys.has(keyid) ? [this.subkeys.get(keyid)!.dict, this.dict] : [this.dict];
    for (const k of keys) {
      const end = expiresAt(k);
      // the reference: expired when creation_time + validity_period < now (seconds)
      if (end !== undefined && end < now.getTime() / 1000) {
        const which = k === this.dict ? 'OpenPGP key' : 'OpenPGP subkey';
        return `${which} ${k.keyid.slice(0, 16)} expired at ${new Date(end * 1000).toISOString()}`;
      }
    }
    return undefined;
  }
}

/** A metablock's signature entry as far as an OpenPGP key looks at it: the reference's form, or any other by its keyid. */
type SignatureEntry = GpgSignature | { readonly keyid: string; readonly sig?: string };

/** When a key expires (seconds since the epoch); undefined when it does not, as the reference reads the dict. */
function expiresAt(dict: GpgKeyDict): number | undefined {
  // the reference tests both for truth: a validity of 0 (gpg's "never") or a missing creation time never expires
  if (!dict.creation_time || !dict.validity_period) return undefined;
  return dict.creation_time + dict.validity_period;
}

function checkFingerprint(dict: GpgKeyDict, where: string): void {
  if (dict.creation_time === undefined) return;
  const computed = gpgFingerprint(dict as GpgKeyDict & { creation_time: number });
  if (computed !== dict.keyid) {
    throw new EvidentError(
      'BAD_KEY',
      `${where}: keyid is ${dict.keyid}, but the key's fields and creation_time make fingerprint ${computed}`,
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
