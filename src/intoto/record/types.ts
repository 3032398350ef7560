/** Digests of one artifact, keyed by algorithm name as the reference spells it (`sha256`, `sha512`, …). */
export type HashDict = Record<string, string>;

/**
 * Artifact name → digests. A plain object whose keys are inserted in sorted (code point) order, so it
 * serialises the way the reference's canonical JSON does.
 */
export type ArtifactMap = Record<string, HashDict>;

/** Options of {@link collectArtifacts}; each mirrors an argument of the reference's record_artifacts_as_dict. */
export interface CollectOptions {
  /** Paths are resolved and recorded relative to this directory (default: the process's cwd). */
  basePath?: string;
  /**
   * gitignore-style patterns (the reference's gitwildmatch). When non-empty they REPLACE the default
   * excludes, as in the reference; when absent or empty, {@link DEFAULT_EXCLUDE_PATTERNS} apply.
   */
  excludePatterns?: string[];
  /** Prefixes stripped (plain string prefix, first match wins) from artifact names. */
  lstripPaths?: string[];
  /**
   * Descend into symlinked directories (recorded under the symlink's name). Default false, as
   * record_artifacts_as_dict's: followed, a tree's symlinks choose what is hashed, even large trees
   * outside it. in-toto-run and in-toto-record always follow; `evident run|record --follow-symlink-dirs` opts in.
   * A symlinked directory named in the paths themselves is always walked.
   */
  followSymlinkDirs?: boolean;
  /** Hash CRLF and lone CR as LF (the reference's normalize_line_endings). */
  normalizeLineEndings?: boolean;
  /** Default ['sha256']. Supported: md5 sha1 sha224 sha256 sha384 sha512 blake2s blake2b. */
  hashAlgorithms?: string[];
  /** Called for each path skipped (missing, special file, unreadable directory, dangling symlink). */
  onWarning?: (message: string) => void;
  /** Called now and then with files hashed and files found so far (the total grows until the walk ends). */
  onProgress?: (done: number, total: number) => void;
  /** Hashing threads; default: the number of CPUs. */
  concurrency?: number;
}

/** What the reference records as a link's byproducts. */
export interface Byproducts {
  stdout: string;
  stderr: string;
  'return-value': number;
}
