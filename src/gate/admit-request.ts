import { EvidentError, isEvidentError } from '../errors.js';
import { isStoreDigest, type StoreDigest } from '../store/digest.js';
import type { GateImage } from './gate.js';
import { parseImageReference } from './image-reference.js';

/** `{"artifact": "sha256:HEX" | "name@sha256:HEX" | "name:tag", "context": {"namespace"?: "…"}}`, else BAD_INPUT (400). */
export function admitRequest(body: unknown, where = '/v1/admit'): { image: GateImage; namespace?: string } {
  const bad = (message: string) => new EvidentError('BAD_INPUT', `${where}: ${message}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('the body must be a JSON object {"artifact": …, "context": {…}}');
  const { artifact, context, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw bad(`unknown field '${unknown[0]!.slice(0, 80)}' (known: artifact, context)`);
  if (typeof artifact !== 'string' || artifact === '') throw bad('"artifact" must be a string: sha256:HEX or NAME@sha256:HEX');
  if (context !== undefined && (typeof context !== 'object' || context === null || Array.isArray(context))) {
    throw bad('"context" must be an object, e.g. {"namespace": "payments"}');
  }
  const namespace = (context as { namespace?: unknown } | undefined)?.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) throw bad('"context.namespace" must be a string');
  return { image: imageOf(artifact, where), ...(namespace !== undefined ? { namespace } : {}) };
}

export function imageOf(artifact: string, where = '/v1/admit'): GateImage {
  if (/^sha256:/i.test(artifact)) {
    const digest = artifact.toLowerCase();
    if (!isStoreDigest(digest))
      throw new EvidentError('BAD_INPUT', `${where}: "artifact" ${artifact.slice(0, 80)} is not sha256: and 64 hex digits`);
    return { text: artifact, digest: digest as StoreDigest };
  }
  try {
    return parseImageReference(artifact);
  } catch (e) {
    throw isEvidentError(e) ? new EvidentError('BAD_INPUT', `${where}: "artifact": ${e.message}`) : e;
  }
}
