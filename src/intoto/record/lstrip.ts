import { EvidentError } from '../../errors.js';

/**
 * The reference refuses prefixes where one is a left substring of another (which one would strip
 * would depend on their order).
 */
export function checkLstripPaths(prefixes: readonly string[]): void {
  for (let i = 0; i < prefixes.length; i++) {
    for (let j = i + 1; j < prefixes.length; j++) {
      const a = prefixes[i]!;
      const b = prefixes[j]!;
      if (a.startsWith(b) || b.startsWith(a)) {
        throw new EvidentError('ARTIFACT_COLLISION', `lstrip paths '${a}' and '${b}': one is a prefix of the other`);
      }
    }
  }
}

/** Strips the first matching prefix; a plain string prefix, as the reference does (no '/' is implied). */
export function lstripName(name: string, prefixes: readonly string[]): string {
  for (const prefix of prefixes) if (name.startsWith(prefix)) return name.slice(prefix.length);
  return name;
}
