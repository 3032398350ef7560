import type { CaKey } from '../datastore/index.js';

/** What one rotation step should do to the keys of one kind. */
export type RotationStep =
  { action: 'none' } | { action: 'create-active' } | { action: 'create-prepared' } | { action: 'activate'; id: string };

/**
 * The rotation timeline, as a pure function of the keys and now (SPIRE's schedule):
 * - no usable active key: activate a prepared one if there is one, else create an active one;
 * - half of the active key's life left: create the next key as `prepared` (published in the bundle,
 *   so relying parties learn it before it signs anything);
 * - one sixth left: activate the prepared key; the old one stays published until it expires, which
 *   is when everything it signed has expired too (leaf NotAfter never passes the CA's).
 */
export function rotationStep(keys: CaKey[], now: number): RotationStep {
  const live = keys.filter((k) => k.notAfter > now);
  const active = live.find((k) => k.status === 'active');
  const prepared = live.find((k) => k.status === 'prepared');
  if (!active) return prepared ? { action: 'activate', id: prepared.id } : { action: 'create-active' };
  const life = active.notAfter - active.notBefore;
  const left = active.notAfter - now;
  if (left <= life / 6) return prepared ? { action: 'activate', id: prepared.id } : { action: 'create-prepared' };
  if (left <= life / 2 && !prepared) return { action: 'create-prepared' };
  return { action: 'none' };
}
