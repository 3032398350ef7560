import { canonicalJsonBytes } from '../../src/crypto/canonical-json.js';
import { canonicalizeMetadataInPlace } from '../../src/intoto/models/link-spans.js';
import type { ArtifactDict } from '../../src/intoto/models/types.js';
import { PackedArtifacts } from '../../src/intoto/rules/packed-artifacts.js';
import type { ArtifactIndex } from '../../src/intoto/rules/types.js';

/**
 * The artifact list `dict` as a link read from a file holds it (PackedArtifacts over canonical bytes),
 * or undefined when such a link would not be packed (an escaped path, a digest that is not hex).
 */
export function packedArtifacts(dict: ArtifactDict): PackedArtifacts | undefined {
  const text = canonicalJsonBytes({ signatures: [], signed: { _type: 'link', materials: dict } });
  const doc = canonicalizeMetadataInPlace(Buffer.from(text));
  const span = doc?.lists.materials;
  return span === undefined ? undefined : new PackedArtifacts(doc!.bytes, span);
}

/** The dictionary an index stands for, built through the ArtifactIndex interface alone (paths in its order). */
export function dictOf(index: ArtifactIndex): ArtifactDict {
  return Object.fromEntries([...index.keys()].map((path) => [path, index.get(path)!]));
}
