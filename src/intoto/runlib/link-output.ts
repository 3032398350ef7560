import { join } from 'node:path';
import type { Signer } from '../../crypto/signer.js';
import { linkFileName } from '../models/link.js';
import { signLinkEnvelope, signMetablock, writeMetadataFile } from '../models/metablock.js';
import type { Link } from '../models/types.js';
import { timestampSignatures, type SignatureTimestamping } from './timestamp-signatures.js';

/**
 * `link`: a metablock. `dsse`: a DSSE envelope of an in-toto Statement v1 with the link predicate (evident's
 * default DSSE form). `dsse-link`: a DSSE envelope of the link itself, the form in-toto-golang and Python
 * in-toto 2.x write and read.
 */
export type LinkFormat = 'link' | 'dsse' | 'dsse-link';

/**
 * Signs a link and writes it, atomically, as `<dir>/<step>.<keyid[:8]>.link`: a classic in-toto metablock
 * (what the reference reads) or a DSSE envelope holding an in-toto Statement with the link predicate.
 * With `timestamps`, the signature carries a token from each TSA; a TSA that fails (unless optional)
 * stops it before anything is written, and `consequence` ends that error's message.
 */
export async function writeSignedLink(
  link: Link,
  signer: Signer,
  options: { directory: string; format: LinkFormat; timestamps?: SignatureTimestamping; consequence?: string },
): Promise<string> {
  const path = join(options.directory, linkFileName(link.name, signer.keyid));
  const signed =
    options.format === 'link'
      ? signMetablock(link, [signer])
      : signLinkEnvelope(link, [signer], { payload: options.format === 'dsse-link' ? 'link' : 'statement' });
  const stamped = options.timestamps
    ? await timestampSignatures(signed, options.timestamps, { consequence: options.consequence ?? 'no link written' })
    : signed;
  await writeMetadataFile(path, stamped);
  return path;
}
