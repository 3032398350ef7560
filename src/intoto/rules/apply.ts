import type { ArtifactRule, HashDict } from '../models/types.js';
import { compileFnmatch, type NameMatcher } from './fnmatch.js';
import type { ArtifactIndex, ArtifactType, ItemRulesResult, LinkArtifacts, MatchMiss, RuleFailure, RuleResult } from './types.js';
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
  const queue = new Set(artifacts.keys());
  const misses = new Map<string, MatchMiss>();
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
      case 'CREATE':
        consumed = select(queue, matcher, (p) => own.products.has(p) && !own.materials.has(p));
        break;
      case 'DELETE':
        consumed = select(queue, matcher, (p) => own.materials.has(p) && !own.products.has(p));
        break;
      case 'MODIFY':
        consumed = select(queue, matcher, (p) => {
          const before = own.materials.get(p);
          const after = own.products.get(p);
          return before !== undefined && after !== undefined && !sameHashes(before, after);
        });
        break;
      case 'ALLOW':
        consumed = select(queue, matcher, () => true);
        break;
      case 'DISALLOW': {
        const found = select(queue, matcher, () => true);
        if (found.length > 0) {
          found.sort(compareCodePoints);
          const explained = found.flatMap((p) => misses.get(p) ?? []);
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
    for (const p of consumed) queue.delete(p);
    results.push({ rule, consumed });
    if (failure !== undefined) break;
  }
  return { item: input.item, type: input.type, results, ...(failure ? { failure } : {}), total: artifacts.size, remaining: queue.size };
}

function select(queue: ReadonlySet<string>, matcher: NameMatcher, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const p of queue) if (matcher(p) && keep(p)) out.push(p);
  return out;
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
  queue: ReadonlySet<string>,
  artifacts: ArtifactIndex,
  links: ReadonlyMap<string, LinkArtifacts>,
  misses: Map<string, MatchMiss>,
): string[] | string {
  const destinationLink = links.get(rule.destinationStep);
  const destination = destinationLink?.[rule.destinationType];
  const sourcePrefix = rule.sourcePrefix ? rule.sourcePrefix : undefined;
  const destinationPrefix = rule.destinationPrefix ? rule.destinationPrefix : undefined;
  const strip = sourcePrefix === undefined ? '' : slashes(pyJoin(sourcePrefix, ''));
  const consumed = new Set<string>();
  for (const queued of queue) {
    if (sourcePrefix !== undefined && !queued.startsWith(strip)) continue;
    const rest = sourcePrefix === undefined ? queued : queued.slice(strip.length);
    if (!matcher(rest)) continue;
    const sourcePath = sourcePrefix === undefined ? rest : slashes(pyJoin(sourcePrefix, rest));
    const destinationPath = destinationPrefix === undefined ? rest : slashes(pyJoin(destinationPrefix, rest));
    const found = artifacts.get(sourcePath);
    if (found === undefined) {
      // Without a destination link the reference returns before looking; with one it raises KeyError.
      if (destination === undefined) continue;
      return queued;
    }
    if (destination === undefined) {
      remember(misses, { rule, path: sourcePath, reason: 'no-destination-link', destinationPath, found });
      continue;
    }
    const expected = destination.get(destinationPath);
    if (expected === undefined) {
      remember(misses, { rule, path: sourcePath, reason: 'not-in-destination', destinationPath, found });
    } else if (!sameHashes(found, expected)) {
      remember(misses, { rule, path: sourcePath, reason: 'hash-mismatch', destinationPath, found, expected });
    } else {
      consumed.add(sourcePath);
    }
  }
  return [...consumed];
}

function remember(misses: Map<string, MatchMiss>, miss: MatchMiss): void {
  if (!misses.has(miss.path)) misses.set(miss.path, miss);
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


/** Artifacts by path over a link's artifact dictionary (not copied: links hold 10⁵ artifacts and more). */
export function indexArtifacts(dict: Readonly<Record<string, HashDict>>): ArtifactIndex {
  let keys: string[] | undefined;
  const own = (path: string) => Object.hasOwn(dict, path);
  return {
    get: (path) => (own(path) ? dict[path] : undefined),
    has: own,
    keys: () => (keys ??= Object.keys(dict)),
    get size() {
      return (keys ??= Object.keys(dict)).length;
    },
  };
}
