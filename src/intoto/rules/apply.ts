import type { ArtifactRule, HashDict } from '../models/types.js';
import { compileFnmatch, type NameMatcher } from './fnmatch.js';
import type {
  ArtifactIndex,
  ArtifactType,
  DigestComparison,
  ItemRulesResult,
  LinkArtifacts,
  MatchMiss,
  RuleFailure,
  RuleResult,
} from './types.js';
import { compareCodePoints } from '../../util/code-points.js';

type MatchRule = Extract<ArtifactRule, { type: 'MATCH' }>;

export interface ApplyRulesInput {
  /** The step or inspection whose rules these are; its own link is `links.get(item)`. */
  readonly item: string;
  readonly type: ArtifactType;
  readonly rules: readonly ArtifactRule[];
  /** Every link the rules may refer to (MATCH … FROM <name>), by step or inspection name. */
  readonly links: ReadonlyMap<string, LinkArtifacts>;
}

/**
 * Applies an item's material or product rules as the reference's `verify_item_rules` does: the queue
 * starts as all of the item's materials (or products); each rule in turn consumes the queued artifacts it
 * accounts for; DISALLOW fails if its pattern still finds anything queued, REQUIRE if its file name is
 * no longer queued. Consuming alone never fails. Application stops at the first failing rule.
 *
 * Cost is linear in the artifacts per rule: every pattern is compiled once, and MATCH looks destination
 * artifacts up by path.
 *
 * @example
 * applyArtifactRules({ item: 'build', type: 'materials', rules: [parseRule(['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', 'code'], 'r'), parseRule(['DISALLOW', '*'], 'r')], links })
 */
export function applyArtifactRules(input: ApplyRulesInput): ItemRulesResult {
  const own = input.links.get(input.item);
  if (own === undefined) throw new Error(`rules: no link for '${input.item}' to apply its rules to`);
  const artifacts = own[input.type];
  const queue = new Queue(artifacts.keys());
  const misses = new Map<string, PendingMiss>();
  const results: RuleResult[] = [];
  let failure: RuleFailure | undefined;

  for (const rule of input.rules) {
    const matcher = compileFnmatch(rule.pattern);
    let consumed: string[] = [];
    switch (rule.type) {
      case 'MATCH': {
        const outcome = applyMatch(rule, matcher, queue, artifacts, input.links, misses);
        if (typeof outcome === 'string') failure = { kind: 'unresolvable', rule, path: outcome };
        else consumed = outcome;
        break;
      }
      // every queued path is one of `artifacts`: only the other list needs looking up
      case 'CREATE':
        consumed = queue.take(
          matcher,
          input.type === 'products' ? (p) => !own.materials.has(p) : (p) => own.products.has(p) && !own.materials.has(p),
        );
        break;
      case 'DELETE':
        consumed = queue.take(
          matcher,
          input.type === 'materials' ? (p) => !own.products.has(p) : (p) => own.materials.has(p) && !own.products.has(p),
        );
        break;
      case 'MODIFY':
        consumed = queue.take(matcher, (p) => {
          const before = own.materials.get(p);
          const after = own.products.get(p);
          return before !== undefined && after !== undefined && !sameHashes(before, after);
        });
        break;
      case 'ALLOW':
        consumed = queue.take(matcher, undefined);
        break;
      case 'DISALLOW': {
        const found = queue.select(matcher);
        if (found.length > 0) {
          found.sort(compareCodePoints);
          const explained = found.flatMap((p) => resolveMiss(misses.get(p)) ?? []);
          failure = { kind: 'disallowed', rule, paths: found, misses: explained };
        }
        break;
      }
      case 'REQUIRE':
        // The reference treats REQUIRE's pattern as a literal file name and looks for it on the queue.
        if (!queue.has(rule.pattern)) {
          const consumedBy = artifacts.has(rule.pattern) ? results.find((r) => r.consumed.includes(rule.pattern))?.rule : undefined;
          failure = { kind: 'required', rule, path: rule.pattern, ...(consumedBy ? { consumedBy } : {}) };
        }
        break;
    }
    results.push({ rule, consumed });
    if (failure !== undefined) break;
  }
  return { item: input.item, type: input.type, results, ...(failure ? { failure } : {}), total: artifacts.size, remaining: queue.size };
}

/**
 * The reference's queue: artifact paths in the order the link lists them, less those consumed. Held as
 * positions in the list's path array, compacted after each rule: cheaper than a Set of 10^5 paths and as
 * many deletes, and a position finds a packed artifact's digests without a lookup.
 */
class Queue {
  readonly paths: readonly string[];
  // never changed in place, only replaced
  private order: readonly number[];

  constructor(paths: Iterable<string>) {
    this.paths = Array.isArray(paths) ? (paths as readonly string[]) : [...paths];
    const order = new Array<number>(this.paths.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    this.order = order;
  }

  get size(): number {
    return this.order.length;
  }

  has(path: string): boolean {
    return this.order.some((i) => this.paths[i] === path);
  }

  /** The queued paths the matcher selects, left queued. */
  select(matcher: NameMatcher): string[] {
    const found: string[] = [];
    for (const i of this.order) if (matcher(this.paths[i]!)) found.push(this.paths[i]!);
    return found;
  }

  /** Takes the queued paths that match and pass `keep` off the queue, and returns them. */
  take(matcher: NameMatcher, keep: ((path: string) => boolean) | undefined): string[] {
    const taken: string[] = [];
    const left: number[] = [];
    partition(this.paths, this.order, matcher, keep, taken, left);
    if (taken.length > 0) this.order = left;
    return taken;
  }

  /** Every queued position, in order (a snapshot: removing does not disturb it). */
  positions(): readonly number[] {
    return this.order;
  }

  replace(positions: readonly number[]): void {
    this.order = positions;
  }

  remove(paths: ReadonlySet<string>): void {
    if (paths.size > 0) this.order = this.order.filter((i) => !paths.has(this.paths[i]!));
  }
}

/** Queue.take's walk, in a function that ends in nothing but a return (see matchQueued). */
function partition(
  paths: readonly string[],
  order: readonly number[],
  matcher: NameMatcher,
  keep: ((path: string) => boolean) | undefined,
  taken: string[],
  left: number[],
): void {
  for (const i of order) {
    const p = paths[i]!;
    if (matcher(p) && (keep === undefined || keep(p))) taken.push(p);
    else left.push(i);
  }
}

/**
 * The reference's `verify_match_rule`. With a source prefix only queued paths under it take part, and
 * the pattern is matched against the path with the prefix removed (so the prefix itself is never
 * globbed); the destination path is that remainder joined to the destination prefix. An artifact is
 * consumed when the destination link has the same path with exactly the same digests. Returns the
 * consumed paths, or the queued path that could not be mapped back to an artifact.
 */
function applyMatch(
  rule: MatchRule,
  matcher: NameMatcher,
  queue: Queue,
  artifacts: ArtifactIndex,
  links: ReadonlyMap<string, LinkArtifacts>,
  misses: Map<string, PendingMiss>,
): string[] | string {
  const destination = links.get(rule.destinationStep)?.[rule.destinationType];
  const sourcePrefix = rule.sourcePrefix ? rule.sourcePrefix : undefined;
  const destinationPrefix = rule.destinationPrefix ? rule.destinationPrefix : undefined;
  const strip = sourcePrefix === undefined ? '' : slashes(pyJoin(sourcePrefix, ''));
  const samePrefix = sourcePrefix === destinationPrefix;
  // The common case consumes the queued path itself, which is then taken off the queue in the same pass.
  const taken: string[] = [];
  const left: number[] = [];
  const walk: MatchWalk = {
    rule,
    matcher,
    artifacts,
    destination,
    sourcePrefix,
    destinationPrefix,
    strip,
    samePrefix,
    misses,
    taken,
    left,
  };
  if (!matchQueued(walk, queue.paths, queue.positions())) return applyMatchGeneral(rule, matcher, queue, artifacts, destination, misses);
  queue.replace(left);
  return taken;
}

interface MatchWalk {
  readonly rule: MatchRule;
  readonly matcher: NameMatcher;
  readonly artifacts: ArtifactIndex;
  readonly destination: ArtifactIndex | undefined;
  readonly sourcePrefix: string | undefined;
  readonly destinationPrefix: string | undefined;
  /** The source prefix as it starts a path (`src/`). */
  readonly strip: string;
  readonly samePrefix: boolean;
  readonly misses: Map<string, PendingMiss>;
  /** Out: the consumed paths, and the positions left queued. */
  readonly taken: string[];
  readonly left: number[];
}

/**
 * applyMatch's walk over the queue; false as soon as a name does not map back to itself (`//` or `\`
 * in it), which the general walk handles. A function of its own that ends in nothing but a return: the
 * optimizer compiles it while it runs, before its end has been reached once.
 */
function matchQueued(m: MatchWalk, paths: readonly string[], positions: readonly number[]): boolean {
  const { sourcePrefix, destinationPrefix, destination, strip } = m;
  const plainPrefix = sourcePrefix === undefined || !sourcePrefix.includes('\\');
  for (const position of positions) {
    const queued = paths[position]!;
    if (sourcePrefix !== undefined && !queued.startsWith(strip)) {
      m.left.push(position);
      continue;
    }
    const rest = sourcePrefix === undefined ? queued : queued.slice(strip.length);
    if (!m.matcher(rest)) {
      m.left.push(position);
      continue;
    }
    // With a plain prefix and a plain remainder, joining them again gives the queued path itself; else it
    // must be built and compared, and may turn out to be another path.
    const plain = sourcePrefix === undefined || (plainPrefix && rest.charCodeAt(0) !== 0x2f && !rest.includes('\\'));
    if (!plain && slashes(pyJoin(sourcePrefix!, rest)) !== queued) return false;
    const destinationPath = m.samePrefix ? queued : destinationPrefix === undefined ? rest : slashes(pyJoin(destinationPrefix, rest));
    const verdict =
      destination === undefined ? 'no-destination-link' : compareArtifact(m.artifacts, position, queued, destination, destinationPath);
    if (verdict === 'same') {
      m.taken.push(queued);
      continue;
    }
    remember(m.misses, { rule: m.rule, path: queued, reason: verdict, destinationPath, source: m.artifacts, destination });
    m.left.push(position);
  }
  return true;
}

/** applyMatch for queues whose names do not map back to themselves. */
function applyMatchGeneral(
  rule: MatchRule,
  matcher: NameMatcher,
  queue: Queue,
  artifacts: ArtifactIndex,
  destination: ArtifactIndex | undefined,
  misses: Map<string, PendingMiss>,
): string[] | string {
  const sourcePrefix = rule.sourcePrefix ? rule.sourcePrefix : undefined;
  const destinationPrefix = rule.destinationPrefix ? rule.destinationPrefix : undefined;
  const strip = sourcePrefix === undefined ? '' : slashes(pyJoin(sourcePrefix, ''));
  const consumed = new Set<string>();
  for (const position of queue.positions()) {
    const queued = queue.paths[position]!;
    if (sourcePrefix !== undefined && !queued.startsWith(strip)) continue;
    const rest = sourcePrefix === undefined ? queued : queued.slice(strip.length);
    if (!matcher(rest)) continue;
    const sourcePath = sourcePrefix === undefined ? rest : slashes(pyJoin(sourcePrefix, rest));
    const destinationPath = destinationPrefix === undefined ? rest : slashes(pyJoin(destinationPrefix, rest));
    if (!artifacts.has(sourcePath)) {
      // Without a destination link the reference returns before looking; with one it raises KeyError.
      if (destination === undefined) continue;
      return queued;
    }
    const verdict =
      destination === undefined ? 'no-destination-link' : compareArtifact(artifacts, -1, sourcePath, destination, destinationPath);
    if (verdict === 'same') consumed.add(sourcePath);
    else remember(misses, { rule, path: sourcePath, reason: verdict, destinationPath, source: artifacts, destination });
  }
  // a consumed source path can be another artifact than the queued name it came from
  queue.remove(consumed);
  return [...consumed];
}

/**
 * Whether `path` (at `position` in `source`'s keys, or -1 when not known) has exactly the digests of
 * `destinationPath` in `destination`: by the source's shortcut if it has one for the destination (two
 * packed lists compare bytes), else as digest sets.
 */
function compareArtifact(
  source: ArtifactIndex,
  position: number,
  path: string,
  destination: ArtifactIndex,
  destinationPath: string,
): DigestComparison {
  const shortcut = source.compareDigests?.(position, path, destination, destinationPath);
  if (shortcut !== undefined) return shortcut;
  const expected = destination.get(destinationPath);
  if (expected === undefined) return 'not-in-destination';
  return sameHashes(source.get(path)!, expected) ? 'same' : 'hash-mismatch';
}

/** A MATCH miss as recorded: its digests are looked up only if a DISALLOW comes to report it. */
interface PendingMiss extends Omit<MatchMiss, 'found' | 'expected'> {
  readonly source: ArtifactIndex;
  readonly destination: ArtifactIndex | undefined;
}

function remember(misses: Map<string, PendingMiss>, miss: PendingMiss): void {
  if (!misses.has(miss.path)) misses.set(miss.path, miss);
}

function resolveMiss(p: PendingMiss | undefined): MatchMiss | undefined {
  if (p === undefined) return undefined;
  // spelled out: a wholesale failure resolves 10^5 of these, and object rest/spread costs several times more
  const { rule, path, reason, destinationPath } = p;
  const found = p.source.get(path)!;
  if (reason !== 'hash-mismatch') return { rule, path, reason, destinationPath, found };
  return { rule, path, reason, destinationPath, found, expected: p.destination!.get(destinationPath)! };
}

/** Python dict equality of two digest sets: same algorithms, same values. */
export function sameHashes(a: HashDict, b: HashDict): boolean {
  // for…in instead of Object.keys: this runs once per artifact and allocates nothing
  let count = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k)) continue;
    if (!Object.hasOwn(b, k) || a[k] !== b[k]) return false;
    count++;
  }
  for (const k in b) if (Object.hasOwn(b, k)) count--;
  return count === 0;
}

/** Python `==` of two artifact dictionaries: the same paths with the same digests. */
export function sameArtifactSets(a: ArtifactIndex, b: ArtifactIndex): boolean {
  const shortcut = a.sameArtifacts?.(b);
  if (shortcut !== undefined) return shortcut;
  if (a.size !== b.size) return false;
  for (const path of a.keys()) {
    const other = b.get(path);
    if (other === undefined || !sameHashes(a.get(path)!, other)) return false;
  }
  return true;
}

/** `posixpath.join(a, b)` for two parts: an absolute `b` replaces `a`. */
function pyJoin(a: string, b: string): string {
  if (b.startsWith('/')) return b;
  if (a === '' || a.endsWith('/')) return a + b;
  return `${a}/${b}`;
}

/** The reference turns every backslash of a joined rule path into a slash. */
function slashes(path: string): string {
  return path.includes('\\') ? path.replaceAll('\\', '/') : path;
}

/**
 * Artifacts by path over a link's artifact dictionary, not copied: a Map of 10^5 paths costs more to
 * build than the rules spend looking paths up in the dictionary itself.
 */
export function indexArtifacts(dict: Readonly<Record<string, HashDict>>): ArtifactIndex {
  let keys: string[] | undefined;
  return {
    get: (path) => (Object.hasOwn(dict, path) ? dict[path] : undefined),
    has: (path) => Object.hasOwn(dict, path),
    keys: () => (keys ??= Object.keys(dict)),
    get size() {
      return (keys ??= Object.keys(dict)).length;
    },
  };
}
