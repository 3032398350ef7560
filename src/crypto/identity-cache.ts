import type { DsseEnvelope } from './dsse.js';
import type { GpgKeyDict } from './gpg/key-dict.js';
import type { KeyDict } from './key-dict.js';
import type { PublicKey } from './keys.js';
import type { X509Certificate } from './x509/index.js';

/**
 * Every cache of the verification path keyed on an object's identity, in one place, so that what they
 * assume is written down once. Each saves work that verifying one document repeats per key or per step:
 * encoding a 10^5-artifact link to canonical JSON, decoding a 60 MB DSSE payload, parsing a key or a
 * certificate.
 *
 * The frozen-input contract: an entry is what was derived from its key object as that object was when
 * first used (or what was known of it when it was made, `remember`). Nobody may change a key object, or
 * anything it holds, after that: a cache cannot see the change and answers for the object as it was (a
 * changed `signed` would have its signatures checked over its old bytes). in-toto verification keeps the
 * contract by construction: every key object is one that parsing and validation made for it (links,
 * layouts and key dicts are built anew, not taken over) and never changes, with one exception: an artifact
 * dictionary of a link given as an object (`verify({ links })`, `parseSignedMetadata`) is the caller's
 * own, which the caller must not change until it is done with the result. Callers of the public functions
 * that use these caches (`signableBytes`, `verifyMetablockSignature`, `verifyMetadataSignature` and the
 * verification they do, `layoutKey`) must likewise not change a document after passing it, or must pass a
 * fresh one.
 *
 * A cache may instead check its entry against the key each time (`fresh`), where that is cheap: a DSSE
 * envelope's entry remembers the strings it was decoded from, so an envelope changed in place is decoded
 * again, never checked against its old bytes (`verifyEnvelope`, `envelopePayload` need no such care).
 *
 * Entries live as long as their key (WeakMap): nothing to evict, nothing kept for a dropped document.
 * The X.509 and SPIFFE code (crypto/x509/, spiffe/) keeps caches of its own for certificates.
 */
export class IdentityCache<K extends object, V> {
  private readonly entries = new WeakMap<K, V>();

  /** `fresh`: whether an entry still holds for its key (else it is made again); without it, always. */
  constructor(private readonly fresh?: (entry: V, key: K) => boolean) {}

  /** The entry for `key`, made by `make` when there is none (or it is no longer fresh). */
  get(key: K, make: (key: K) => V): V {
    let entry = this.entries.get(key);
    if (entry === undefined || (this.fresh !== undefined && !this.fresh(entry, key))) {
      entry = make(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Records the entry for `key` when it is already known as the object is made; it must be what `make` would give. */
  remember(key: K, entry: V): void {
    this.entries.set(key, entry);
  }
}

/**
 * Canonical JSON bytes of a JSON object: for the `signed` of an in-toto link or layout, the bytes its
 * signatures are over. Keyed on the object (everything reachable from it counts). Made by canonicalJsonBytes
 * on first use, or remembered when the object was read from a file already canonical (the file's bytes).
 */
export const canonicalBytes = new IdentityCache<object, Buffer>();

/**
 * A DSSE envelope's PAE message (the bytes its signatures are over; the payload is its tail), with the
 * strings it was made from. Keyed on the envelope; checked against its `payloadType` and `payload` on each
 * use (cheap: an envelope not changed holds the very strings the entry does).
 */
export const envelopeMessages = new IdentityCache<
  DsseEnvelope,
  { readonly payloadType: string; readonly payload: string; readonly message: Buffer; readonly payloadStart: number }
>((entry, envelope) => entry.payload === envelope.payload && entry.payloadType === envelope.payloadType);

/**
 * The public key of a securesystemslib or OpenPGP key dict (a layout's `keys` entry), and with it its fingerprint.
 * Keyed on the dict. Remembered when validation copies the dict, else made on first use.
 */
export const dictKeys = new IdentityCache<KeyDict | GpgKeyDict, PublicKey>();

/**
 * The certificate of a CA key dict (a layout's `rootcas` or `intermediatecas` entry, its
 * `keyval.certificate`). Keyed on the dict. Made on first use by the X.509 parser, which is loaded only
 * for layouts that have certificate signers.
 */
export const dictCertificates = new IdentityCache<KeyDict, X509Certificate>();
