import { join } from 'node:path';
import type { PrivateKey } from '../../crypto/keys.js';
import { linkFileName } from '../models/link.js';
import { signLinkEnvelope, signMetablock, writeMetadataFile } from '../models/metablock.js';
import type { Link } from '../models/types.js';

export type LinkFormat = 'link' | 'dsse';

/**
 * Signs a link and writes it, atomically, as `<dir>/<step>.<keyid[:8]>.link`: a classic in-toto metablock
 * (what the reference reads) or a DSSE envelope holding an in-toto Statement with the link predicate.
 */
export async function writeSignedLink(link: Link, key: PrivateKey, options: { directory: string; format: LinkFormat }): Promise<string> {
  const path = join(options.directory, linkFileName(link.name, key.keyid));
  await writeMetadataFile(path, options.format === 'dsse' ? signLinkEnvelope(link, [key]) : signMetablock(link, [key]));
  return path;
}
