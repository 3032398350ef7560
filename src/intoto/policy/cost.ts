import type { RuleShape } from './rule-shape.js';

/**
 * The largest list or object (by entries) anywhere in a JSON value, walked without recursion: with the
 * rule's shape it bounds how many times a comprehension can loop. Computed once per attestation.
 */
export function largestCollection(value: unknown): number {
  let largest = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      largest = Math.max(largest, v.length);
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push(x);
    } else if (v instanceof Map) {
      largest = Math.max(largest, v.size);
      for (const x of v.values()) if (typeof x === 'object' && x !== null) stack.push(x);
    } else {
      let n = 0;
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        n++;
        const x = (v as Record<string, unknown>)[key];
        if (typeof x === 'object' && x !== null) stack.push(x);
      }
      largest = Math.max(largest, n);
    }
  }
  return largest;
}

/**
 * An upper bound of the work of evaluating a rule, in node evaluations, given the largest collection
 * among its inputs. No list the rule can iterate is longer than `largest` times one more than its
 * additions (a `+` can join two lists; map and filter make no longer list than they read) plus its own
 * literals (at most its nodes); each comprehension loops at most that many times per loop of each
 * comprehension around it; each loop evaluates at most every node once. Loose (it assumes every loop is
 * as long as the longest list), but never low: what it admits cannot run away.
 */
export function costBound(shape: RuleShape, largest: number): number {
  const longest = largest * (shape.additions + 1) + shape.nodes;
  const loops = shape.comprehensions === 0 ? 0 : shape.comprehensions * longest ** shape.nesting;
  return shape.nodes * (1 + loops);
}
