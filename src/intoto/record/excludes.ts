import ignore from 'ignore';
import type { Ignore } from 'ignore';
import { badInput } from '../../errors.js';
import { joinName } from './normpath.js';

/** The reference's ARTIFACT_EXCLUDE_PATTERNS (in_toto/settings.py), applied when no patterns are passed. */
export const DEFAULT_EXCLUDE_PATTERNS: readonly string[] = Object.freeze(['*.link*', '.git', '*.pyc', '*~']);

/** Tells whether an artifact name is excluded. */
export interface ExcludeMatcher {
  (name: string): boolean;
  /**
   * The same question for the entries of directory `dir`, asked by their base names: the walk asks it
   * for every file, so it is worth answering faster than by the full name when that is exact.
   */
  inDir(dir: string): (base: string) => boolean;
}

interface Rule {
  matcher: Ignore;
  negated: boolean;
}

/**
 * Compiles patterns with the reference's semantics (pathspec's gitwildmatch, as in_toto.runlib uses it):
 * every pattern is tried against the whole name, the last pattern that matches decides, a `!` pattern
 * re-includes, and a pattern matches a name when it matches the name or any of its parent directories.
 *
 * `ignore` implements the glob dialect; but used as one instance it would apply git's rule that a file
 * under an excluded directory can never be re-included, which pathspec does not. So each pattern gets
 * its own instance (for a single positive pattern, `ignore`'s parent check is exactly pathspec's
 * "name or any parent" match) and we combine them in order, as pathspec does.
 */
export function compileExcludes(patterns: readonly string[]): ExcludeMatcher {
  const rules: Rule[] = [];
  const slashFree: boolean[] = [];
  for (const raw of patterns) {
    // pathspec strips surrounding whitespace and treats blank lines, comments and a lone '/' as no-ops.
    let pattern = raw.trim();
    if (pattern === '' || pattern.startsWith('#') || pattern === '/') continue;
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1);
    // The patterns pathspec refuses to compile (the reference fails on them too).
    if (pattern === '' || /(^|[^\\])(\\\\)*\\$/.test(pattern)) {
      throw badInput(`invalid exclude pattern '${raw}'`);
    }
    pattern = likePathspec(pattern);
    slashFree.push(!pattern.replace(/\/$/, '').includes('/'));
    rules.push({ matcher: ignore({ ignorecase: false, allowRelativePaths: true }).add(pattern), negated });
  }
  if (rules.length === 0)
    return withInDir(
      () => false,
      () => () => false,
    );
  // Without negation the result is "any pattern matches": one instance does that in one pass.
  if (!rules.some((r) => r.negated)) {
    const all = ignore({ ignorecase: false, allowRelativePaths: true });
    for (const r of rules) all.add(r.matcher);
    const matches = (name: string): boolean => all.ignores(toRelative(name));
    if (!slashFree.every(Boolean)) return withInDir(matches, byFullName(matches));
    // Only slash-free patterns (like the defaults): `ignore` matches them against the last path segment
    // alone, so "dir/base" is excluded iff "dir/" is or "base" is; both answers are cached by `ignore`
    // (per directory, per base name) instead of once per file.
    return withInDir(matches, (dir) => {
      const rel = toRelative(dir);
      if (dir === '.' || rel === '') return (base) => all.ignores(base);
      if (all.ignores(rel.endsWith('/') ? rel : `${rel}/`)) return () => true;
      return (base) => all.ignores(base);
    });
  }
  const matches = (name: string): boolean => {
    const rel = toRelative(name);
    let excluded = false;
    for (const r of rules) if (r.matcher.ignores(rel)) excluded = !r.negated;
    return excluded;
  };
  return withInDir(matches, byFullName(matches));
}

function withInDir(matches: (name: string) => boolean, inDir: (dir: string) => (base: string) => boolean): ExcludeMatcher {
  return Object.assign(matches, { inDir });
}

function byFullName(matches: (name: string) => boolean): (dir: string) => (base: string) => boolean {
  return (dir) => (base) => matches(joinName(dir, base));
}

/**
 * pathspec turns a trailing '/' of a pattern with more than one segment into '/**' (everything below,
 * whether or not the name itself is a directory). `ignore` would only match such a pattern against
 * names it is told are directories, so we rewrite it the way pathspec reads it.
 */
function likePathspec(pattern: string): string {
  if (!pattern.endsWith('/')) return pattern;
  const stem = pattern.slice(0, -1);
  if (!stem.includes('/')) return pattern;
  // 'x/**/' is 'x/**/**' to pathspec; `ignore` wants the collapsed 'x/**'.
  return stem.endsWith('/**') || stem === '**' ? stem : `${stem}/**`;
}

/** pathspec's normalize_file: one leading '/' or './' is dropped before matching. */
function toRelative(name: string): string {
  if (name.startsWith('/')) return name.slice(1);
  if (name.startsWith('./')) return name.slice(2);
  return name;
}
