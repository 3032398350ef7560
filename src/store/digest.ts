import { createHash } from 'node:crypto';
import { EvidentError } from '../errors.js';

/** How the evidence store names content and artifacts: `sha256:` and 64 lowercase hex digits. */
export type StoreDigest = `sha256:${string}`;

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Whether `text` is a digest as the store writes it (`sha256:` + 64 hex, lowercase). */
export function isStoreDigest(text: string): text is StoreDigest {
  return DIGEST.test(text);
}

/**
 * A digest as a user typed it (`sha256:HEX`, hex in either case); `what` names it in the error.
 *
 * @throws EvidentError BAD_USAGE for anything else
 */
export function parseStoreDigest(text: string, what: string): StoreDigest {
  const lower = text.toLowerCase();
  if (!isStoreDigest(lower)) throw new EvidentError('BAD_USAGE', `${what} must be sha256: and 64 hex digits, not '${text.slice(0, 80)}'`);
  return lower;
}

/** The store's address of these bytes. */
export function digestOf(bytes: Uint8Array): StoreDigest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
