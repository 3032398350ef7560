/**
 * The in-toto v1 metadata as it appears on the wire (JSON names kept, so a parsed document re-encodes to
 * the same canonical bytes it was signed over). Parsing and validation live beside this file.
 */
import type { KeyDict } from '../../crypto/key-dict.js';
import type { GpgKeyDict } from '../../crypto/gpg/key-dict.js';
import type { GpgSignature } from '../../crypto/gpg/signature.js';
import type { SignatureTimestamp } from '../../crypto/signature-timestamps.js';

/** A rule as written in a layout: the tokens of one rule, e.g. ["MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "code"]. */
export type RuleTokens = string[];

export type ArtifactRule =
  | {
      readonly type: 'MATCH';
      readonly pattern: string;
      /** `IN <prefix>` before WITH: the prefix on this step's side (no trailing slash). */
      readonly sourcePrefix: string | undefined;
      readonly destinationType: 'materials' | 'products';
      /** `IN <prefix>` after WITH …: the prefix on the destination step's side. */
      readonly destinationPrefix: string | undefined;
      readonly destinationStep: string;
      readonly tokens: RuleTokens;
    }
  | {
      readonly type: 'CREATE' | 'DELETE' | 'MODIFY' | 'ALLOW' | 'DISALLOW' | 'REQUIRE';
      readonly pattern: string;
      readonly tokens: RuleTokens;
    };

/** Digests of one artifact: algorithm name → lowercase hex. */
export type HashDict = Record<string, string>;
export type ArtifactDict = Record<string, HashDict>;

/**
 * A metablock's signature entry: a key's (`{keyid, sig}`, Signature), or the Python reference's OpenPGP
 * form (`{keyid, other_headers, signature}`, crypto/gpg/signature.ts), which has no `sig`.
 */
export type MetablockSignature = Signature | GpgSignature;

export interface Signature {
  keyid: string;
  sig: string;
  /** in-toto-golang extension: the signer's X.509 certificate (PEM) when signed by a certificate's key. */
  cert?: string;
  /** RFC 3161 tokens over the signature's bytes, in Witness's shape (crypto/signature-timestamps.ts). */
  timestamps?: SignatureTimestamp[];
}

/** A link's `signed`, plain data (verification holds a link as an IndexedLink, verify/indexed-link.ts). */
export interface Link {
  _type: 'link';
  name: string;
  command: string[];
  materials: ArtifactDict;
  products: ArtifactDict;
  byproducts: Record<string, unknown>;
  environment: Record<string, unknown>;
}

/** in-toto-golang's certificate constraints for steps signed by X.509 certificates. */
export interface CertificateConstraint {
  common_name: string;
  dns_names: string[];
  emails: string[];
  organizations: string[];
  roots: string[];
  uris: string[];
}

export interface Step {
  _type: 'step';
  name: string;
  threshold: number;
  expected_materials: RuleTokens[];
  expected_products: RuleTokens[];
  pubkeys: string[];
  expected_command: string[];
  cert_constraints?: CertificateConstraint[];
  /**
   * evident's extension: a signature counts for this step only with a valid RFC 3161 token from one of
   * the layout's `timestampauthorities` (docs/trusted-time.md). Kept only when present.
   */
  require_timestamps?: boolean;
  /**
   * evident's extension, in the vocabulary of the in-toto attestation verifier (ITE-10/11): attestations
   * about this step's artifacts that must exist and satisfy CEL rules (docs/policy.md). Kept only when present.
   */
  expected_predicates?: ExpectedPredicate[];
  /**
   * evident's extension: the step's evidence is a signed SLSA Verification Summary (another team's
   * verification of its own chain) instead of links; its subjects become the step's products
   * (docs/policy.md, "A VSA as a step's evidence"). Kept only when present.
   */
  expected_vsa?: ExpectedVsa;
}

/**
 * What a VSA standing for a step must say, each field a pin the layout may leave out: it is signed by one
 * of the step's functionaries, says PASSED, and names its signer as verifier (or `verifier_id`) anyway.
 */
export interface ExpectedVsa {
  /** Digest sets of the policies (layouts) the verification may have followed: the VSA's `policy.digest` must match one. */
  policy?: HashDict[];
  /** The VSA's `verifier.id`, exactly. */
  verifier_id?: string;
  /** The VSA's `resourceUri`, exactly. */
  resource_uri?: string;
  /** Each must be among the VSA's `verifiedLevels`. */
  verified_levels?: string[];
  /** Seconds the VSA stays good after its `timeVerified` (which it must then carry). */
  max_age?: number;
}

export interface Inspection {
  _type: 'inspection';
  name: string;
  expected_materials: RuleTokens[];
  expected_products: RuleTokens[];
  run: string[];
  /** As a step's; each entry names its `functionaries` (an inspection has no pubkeys to default to). */
  expected_predicates?: ExpectedPredicate[];
}

/**
 * An attestation a step or inspection expects: a DSSE-signed in-toto Statement of `predicate_type`, signed by
 * one of `functionaries` (default: the step's pubkeys and certificate constraints), whose subjects share a
 * digest with the item's materials or products, and for which every rule of `expected_attributes` holds.
 */
export interface ExpectedPredicate {
  predicate_type: string;
  /** Kept only when present; absent, the attestation need only exist. */
  expected_attributes?: ExpectedAttribute[];
  /** Keyids of the layout's `keys`; kept only when present. */
  functionaries?: string[];
}

/** One CEL rule over an attestation (docs/policy.md); the flags are kept as written, false too. */
export interface ExpectedAttribute {
  rule: string;
  /** The rule holds when the attestation lacks a field it reads, or when there is no attestation at all. */
  allow_if_no_claim?: boolean;
  /** A rule that does not hold is a warning, not a failure. */
  warn?: boolean;
}

export interface Layout {
  _type: 'layout';
  /** ISO 8601 UTC, `YYYY-MM-DDTHH:MM:SSZ` as the reference writes it. */
  expires: string;
  readme: string;
  /** Functionary keys by keyid: securesystemslib key dicts, or the Python reference's OpenPGP key dicts (crypto/gpg/). */
  keys: Record<string, KeyDict | GpgKeyDict>;
  steps: Step[];
  inspect: Inspection[];
  rootcas?: Record<string, KeyDict>;
  intermediatecas?: Record<string, KeyDict>;
  /**
   * evident's extension, shaped as `rootcas`: the CA certificates (keyid → key dict with
   * `keyval.certificate`) that time-stamping authorities' certificates must chain to for their tokens on
   * signatures to count (Witness's policy calls its list `timestampauthorities` too).
   */
  timestampauthorities?: Record<string, KeyDict>;
}

/** A signed document: `{"signed": …, "signatures": […]}`; signatures are over canonical JSON of `signed`. */
export interface Metablock<T extends Link | Layout = Link | Layout> {
  signed: T;
  signatures: MetablockSignature[];
}
