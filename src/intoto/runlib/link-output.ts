import { join } from 'node:path';
import type { Signer } from '../../crypto/signer.js';
import { linkFileName } from '../models/link.js';
import { signLinkEnvelope, signMetablock, writeMetadataFile } from '../models/metablock.js';
import type { Link } from '../models/types.js';

export type LinkFormat = 'link' | 'dsse';

/**
 * Signs a link and writes it, atomically, as `<dir>/<step>.<keyid[:8]>.link`: a classic in-toto metablock
 * (what the reference reads) or a DSSE envelope holding an in-toto Statement with the link predicate.
 */
export async function writeSignedLink(link: Link, signer: Signer, options: { directory: string; format: LinkFormat }): Promise<string> {
  const path = join(options.directory, linkFileName(link.name, signer.keyid));
  await writeMetadataFile(path, options.format === 'dsse' ? signLinkEnvelope(link, [signer]) : signMetablock(link, [signer]));
  return path;
}
