import type { CaKey } from '../datastore/index.js';

/** What one rotation step should do to the keys of one kind. */
export type RotationStep =
  | { action: 'none' }
  | { action: 'create-active' }
  | { action: 'create-prepared' }
  | { action: 'activate'; id: string }
  | { action: 'drop'; id: string };

/**
 * The rotation timeline, as a pure function of the keys and now (SPIRE's schedule):
 * - no usable active key: activate a prepared one if there is one, else create an active one;
 * - half of the active key's life left: create the next key as `prepared` (published in the bundle,
 *   so relying parties learn it before it signs anything);
 * - one sixth left: activate the prepared key; the old one stays published until it expires, which
 *   is when everything it signed has expired too (leaf NotAfter never passes the CA's).
 *
 * `current` says whether a key was made under today's authority (the root or upstream CA that signs the
 * signing CAs): when the authority changed (a new root activated, an upstream configured), the active key
 * is replaced at once, by way of a prepared key so that racing servers agree; a prepared key made under
 * the old authority is dropped, as it never signed anything.
 */
export function rotationStep(keys: CaKey[], now: number, current: (k: CaKey) => boolean = () => true): RotationStep {
  const live = keys.filter((k) => k.notAfter > now);
  const active = live.find((k) => k.status === 'active');
  const prepared = live.find((k) => k.status === 'prepared');
  if (prepared && !current(prepared)) return { action: 'drop', id: prepared.id };
  if (!active) return prepared ? { action: 'activate', id: prepared.id } : { action: 'create-active' };
  if (!current(active)) return prepared ? { action: 'activate', id: prepared.id } : { action: 'create-prepared' };
  const life = active.notAfter - active.notBefore;
  const left = active.notAfter - now;
  if (left <= life / 6) return prepared ? { action: 'activate', id: prepared.id } : { action: 'create-prepared' };
  if (left <= life / 2 && !prepared) return { action: 'create-prepared' };
  return { action: 'none' };
}

/**
 * The root's timeline: it does not rotate on its own (layouts pin it; replacing it is an operator's
 * decision, docs/identity.md). Only when there is no usable active root is a prepared one activated, or a
 * first one created.
 */
export function rootStep(roots: CaKey[], now: number): RotationStep {
  const live = roots.filter((k) => k.notAfter > now);
  if (live.some((k) => k.status === 'active')) return { action: 'none' };
  const prepared = live.find((k) => k.status === 'prepared');
  return prepared ? { action: 'activate', id: prepared.id } : { action: 'create-active' };
}
