import { artifactNameProblem } from '../models/artifact-name.js';
import { setOwnEntry } from '../../util/own-entry.js';
import type { ArtifactListSpan } from '../models/link-spans.js';
import type { ArtifactDict, HashDict } from '../models/types.js';
import type { ArtifactIndex, DigestComparison } from './types.js';

/**
 * A link's artifact list kept as the canonical bytes it was signed as (located by
 * canonicalizeMetadataInPlace), instead of 10^5 parsed objects: only the paths become strings. Two
 * artifacts have the same digests exactly when their digest objects have the same canonical bytes
 * (sorted algorithms, unescaped hex), so comparing them allocates nothing. Digest objects, the lookup
 * table and the plain dictionary are made only when something asks for them.
 */
export class PackedArtifacts implements ArtifactIndex {
  private readonly paths: string[];
  /** Whether `paths` ascend in JavaScript's string order too (they ascend by code point: true when all are ASCII). */
  private readonly ascending: boolean;
  /** Where the last lookup ended: lookups in list order (a MATCH walks its queue so) each start where it is. */
  private cursor = 0;
  private byPath: Map<string, number> | undefined;
  private dict: ArtifactDict | undefined;

  constructor(
    private readonly bytes: Buffer,
    private readonly span: ArtifactListSpan,
  ) {
    this.paths = decodePaths(bytes, span.entries, span.count);
    this.ascending = allAscii(this.paths, span.entries);
  }

  /**
   * Whether every path obeys the artifact-name rule. A plain (unescaped) list can hold neither a backslash
   * nor a control character, so an ASCII list only needs its empty names looked for.
   */
  hasOnlyValidNames(): boolean {
    const { paths, span } = this;
    if (this.ascending) {
      for (let k = 0; k < span.count * 4; k += 4) if (span.entries[k] === span.entries[k + 1]) return false;
      return true;
    }
    return paths.every((path) => artifactNameProblem(path) === undefined);
  }

  get size(): number {
    return this.paths.length;
  }

  /** The paths in the order the link lists them (the reference's dictionary order); do not modify. */
  keys(): readonly string[] {
    return this.paths;
  }

  has(path: string): boolean {
    return this.indexOf(path) !== -1;
  }

  get(path: string): HashDict | undefined {
    const i = this.indexOf(path);
    return i === -1 ? undefined : this.digestsAt(i);
  }

  /**
   * The position of `path` in the list, or -1. The list is sorted (canonical order), so a lookup needs no
   * hash table: it checks at the cursor first, where the next of a run of lookups in list order is, or
   * falls between the cursor's neighbours when it is absent; anything else is a binary search.
   */
  indexOf(path: string): number {
    if (!this.ascending) return this.lookUp(path);
    const paths = this.paths;
    const n = paths.length;
    const at = this.cursor;
    let lo = 0;
    let hi = n;
    if (at === 0 || paths[at - 1]! < path) {
      if (at === n || path < paths[at]!) return -1;
      if (paths[at] === path) {
        this.cursor = at + 1;
        return at;
      }
      lo = at + 1;
    } else {
      hi = at;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (paths[mid]! < path) lo = mid + 1;
      else hi = mid;
    }
    this.cursor = lo;
    if (lo < n && paths[lo] === path) {
      this.cursor = lo + 1;
      return lo;
    }
    return -1;
  }

  private lookUp(path: string): number {
    if (this.byPath === undefined) {
      this.byPath = new Map();
      for (let i = 0; i < this.paths.length; i++) this.byPath.set(this.paths[i]!, i);
    }
    return this.byPath.get(path) ?? -1;
  }

  /** ArtifactIndex's shortcut: against another packed list, digests compare as bytes. */
  compareDigests(position: number, path: string, other: ArtifactIndex, otherPath: string): DigestComparison | undefined {
    if (!(other instanceof PackedArtifacts)) return undefined;
    const j = other.indexOf(otherPath);
    if (j === -1) return 'not-in-destination';
    return this.sameDigestsAt(position === -1 ? this.indexOf(path) : position, other, j) ? 'same' : 'hash-mismatch';
  }

  /** ArtifactIndex's shortcut: two packed lists are equal exactly when their canonical bytes are. */
  sameArtifacts(other: ArtifactIndex): boolean | undefined {
    return other instanceof PackedArtifacts ? this.equals(other) : undefined;
  }

  /** Whether artifact `i` here and artifact `j` of `other` have exactly the same digests. */
  sameDigestsAt(i: number, other: PackedArtifacts, j: number): boolean {
    const a = this.span.entries;
    const b = other.span.entries;
    return sameBytes(this.bytes, a[4 * i + 2]!, a[4 * i + 3]!, other.bytes, b[4 * j + 2]!, b[4 * j + 3]!);
  }

  /** Whether both lists hold the same artifacts with the same digests (Python dict equality). */
  equals(other: PackedArtifacts): boolean {
    const { start, end } = this.span;
    return (
      end - start === other.span.end - other.span.start &&
      this.bytes.compare(other.bytes, other.span.start, other.span.end, start, end) === 0
    );
  }

  /** The plain dictionary, parsed once from the canonical bytes. Treat it as frozen. */
  toDict(): ArtifactDict {
    this.dict ??= JSON.parse(this.bytes.toString('utf8', this.span.start, this.span.end)) as ArtifactDict;
    return this.dict;
  }

  /** A list serializes as the dictionary it stands for, not as the buffer it is read from. */
  toJSON(): ArtifactDict {
    return this.toDict();
  }

  /** The digest object of artifact `i`: `{"alg":"hex",…}` as the scan found it (no escapes, no spaces). */
  private digestsAt(i: number): HashDict {
    const e = this.span.entries;
    const end = e[4 * i + 3]! - 1;
    const digests: HashDict = {};
    for (let at = e[4 * i + 2]! + 1; at < end;) {
      const algEnd = this.bytes.indexOf(QUOTE, at + 1);
      const hexEnd = this.bytes.indexOf(QUOTE, algEnd + 3);
      const algorithm = decodeUtf8(this.bytes, at + 1, algEnd);
      const hex = this.bytes.toString('latin1', algEnd + 3, hexEnd);
      setOwnEntry(digests, algorithm, hex);
      at = hexEnd + 2;
    }
    return digests;
  }
}

// The loops over 10^5 paths are functions of their own that end in nothing but a return: the optimizer
// compiles a loop while it runs, and a property store after it, never reached yet, would undo that.

function decodePaths(bytes: Buffer, entries: Int32Array, count: number): string[] {
  const paths = new Array<string>(count);
  for (let i = 0, k = 0; i < count; i++, k += 4) paths[i] = decodeUtf8(bytes, entries[k]!, entries[k + 1]!);
  return paths;
}

/** Whether every path is ASCII: UTF-8 takes more bytes than UTF-16 takes code units for anything else. */
function allAscii(paths: readonly string[], entries: Int32Array): boolean {
  for (let i = 0, k = 0; i < paths.length; i++, k += 4) if (paths[i]!.length !== entries[k + 1]! - entries[k]!) return false;
  return true;
}

const QUOTE = 0x22;

function sameBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): boolean {
  if (ae - as !== be - bs) return false;
  // a digest object is ~80 bytes: a loop here beats a call into Buffer.compare
  for (let k = 0; k < ae - as; k++) if (a[as + k] !== b[bs + k]) return false;
  return true;
}

type SliceDecoder = (bytes: Buffer, start: number, end: number) => string;
const bufferSlice = (Buffer.prototype as unknown as { utf8Slice?: unknown }).utf8Slice;
// Buffer's own slice decoder skips toString's argument checks, which halves the cost over 10^5 paths
const decodeUtf8: SliceDecoder =
  typeof bufferSlice === 'function'
    ? (bytes, start, end) => (bytes as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(start, end)
    : (bytes, start, end) => bytes.toString('utf8', start, end);
