import type { Selector } from './types.js';

/** Selectors in one canonical order, so equal sets compare (and are unique-indexed) as equal strings. */
export function sortSelectors(selectors: Selector[]): Selector[] {
  return [...selectors].sort((a, b) => (a.type === b.type ? cmp(a.value, b.value) : cmp(a.type, b.type)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical string key of a selector set, as stored (and unique-indexed for entries). */
export function selectorsKey(selectors: Selector[]): string {
  return JSON.stringify(sortSelectors(selectors).map((s) => [s.type, s.value]));
}

export function selectorsFromJson(json: string): Selector[] {
  return (JSON.parse(json) as [string, string][]).map(([type, value]) => ({ type, value }));
}
