import type { ArtifactRule, HashDict } from '../models/types.js';

/** Which of an item's artifact lists a set of rules governs. */
export type ArtifactType = 'materials' | 'products';

/**
 * Artifacts by path, looked up as own keys only, so names like `__proto__` or `constructor` are ordinary
 * paths. A `Map` is one; `indexArtifacts` makes one over a link's dictionary without copying it, and a
 * link read from a file holds its lists packed in the bytes it was signed as (PackedArtifacts).
 *
 * The two optional methods are shortcuts an index may have for comparing with another index it knows the
 * representation of (two packed lists compare bytes, making no digest objects). They answer undefined for
 * any other index, and the rules then compare what `get` returns: either way the answer is the same.
 */
export interface ArtifactIndex {
  get(path: string): HashDict | undefined;
  has(path: string): boolean;
  keys(): Iterable<string>;
  readonly size: number;
  /**
   * How the artifact at `position` in keys() (-1: not known; `path` is then looked up) compares with
   * `otherPath` in `other`, or undefined when this index has no shortcut for `other`.
   */
  compareDigests?(position: number, path: string, other: ArtifactIndex, otherPath: string): DigestComparison | undefined;
  /** Whether `other` holds the same paths with the same digests, or undefined when this index has no shortcut for it. */
  sameArtifacts?(other: ArtifactIndex): boolean | undefined;
}

/** How one artifact compares with the artifact a MATCH rule looks up on the other side. */
export type DigestComparison = 'same' | 'hash-mismatch' | 'not-in-destination';

/** What the rules of one item see of a link (a step's, an inspection's or a sublayout's summary). */
export interface LinkArtifacts {
  readonly materials: ArtifactIndex;
  readonly products: ArtifactIndex;
}

/** One rule as it was applied: the artifacts it took off the queue. */
export interface RuleResult {
  readonly rule: ArtifactRule;
  readonly consumed: readonly string[];
}

/**
 * Why a MATCH rule whose pattern selected an artifact did not consume it. A later DISALLOW that catches
 * the artifact is explained by this, which is usually the real story ("the hash changed between steps").
 */
export interface MatchMiss {
  readonly rule: Extract<ArtifactRule, { type: 'MATCH' }>;
  /** The artifact on this item's side. */
  readonly path: string;
  readonly reason: 'hash-mismatch' | 'not-in-destination' | 'no-destination-link';
  /** The path looked up on the destination step's side (prefixes applied). */
  readonly destinationPath: string;
  /** This item's digests of `path`. */
  readonly found: HashDict;
  /** The destination step's digests of `destinationPath`, when it has the artifact. */
  readonly expected?: HashDict;
}

export type RuleFailure =
  | {
      /** A DISALLOW rule found artifacts left on the queue. */
      readonly kind: 'disallowed';
      readonly rule: ArtifactRule;
      /** Every artifact the DISALLOW matched, sorted. */
      readonly paths: readonly string[];
      /** For those of `paths` an earlier MATCH selected but could not consume: why. */
      readonly misses: readonly MatchMiss[];
    }
  | {
      /** A REQUIRE rule did not find its artifact on the queue. */
      readonly kind: 'required';
      readonly rule: ArtifactRule;
      readonly path: string;
      /** The earlier rule that consumed it, when it was among the artifacts at first. */
      readonly consumedBy?: ArtifactRule;
    }
  | {
      /**
       * A MATCH with a source prefix turned a queued artifact into a path that is not an artifact (only
       * possible for names with `//` or `\`); the reference fails with an error there, and so do we.
       */
      readonly kind: 'unresolvable';
      readonly rule: ArtifactRule;
      readonly path: string;
    };

/** The outcome of one item's material or product rules. */
export interface ItemRulesResult {
  readonly item: string;
  readonly type: ArtifactType;
  /** Rules applied, in order, up to and including a failing one (later rules are not applied). */
  readonly results: readonly RuleResult[];
  readonly failure?: RuleFailure;
  /** How many artifacts the queue started with, and how many no rule consumed. */
  readonly total: number;
  readonly remaining: number;
}
