import { canonicalizeInPlace } from '../../src/crypto/canonical-from-text.js';
import { canonicalJsonBytes } from '../../src/crypto/canonical-json.js';
import type { ArtifactDict } from '../../src/intoto/models/types.js';
import { PackedArtifacts } from '../../src/intoto/rules/packed-artifacts.js';

/**
 * The artifact list `dict` as a link read from a file holds it (PackedArtifacts over canonical bytes),
 * or undefined when such a link would not be packed (an escaped path, a digest that is not hex).
 */
export function packedArtifacts(dict: ArtifactDict): PackedArtifacts | undefined {
  const text = canonicalJsonBytes({ signatures: [], signed: { _type: 'link', materials: dict } });
  const doc = canonicalizeInPlace(Buffer.from(text));
  const span = doc?.lists.materials;
  return span === undefined ? undefined : new PackedArtifacts(doc!.bytes, span);
}
