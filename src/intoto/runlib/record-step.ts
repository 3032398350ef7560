import { access, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EvidentError } from '../../errors.js';
import type { Signer } from '../../crypto/signer.js';
import { canonicalJsonBytes } from '../../crypto/canonical-json.js';
import { collectArtifacts } from '../record/index.js';
import type { CollectOptions } from '../record/index.js';
import { loadMetadataFile, signMetablock, verifyMetablockSignature, writeMetadataFile } from '../models/metablock.js';
import type { Link, Metablock, Signature } from '../models/types.js';
import { writeSignedLink, type LinkFormat } from './link-output.js';
import { checkStepName } from './step-name.js';

/** The preliminary link `record start` leaves in the working folder, as the reference names it. */
export function unfinishedLinkName(step: string, keyid: string): string {
  return `.${step}.${keyid.slice(0, 8)}.link-unfinished`;
}

/** `in-toto-record start`: hashes the materials into a signed preliminary link. */
export async function recordStart(options: {
  name: string;
  signer: Signer;
  materials: string[];
  collect: CollectOptions;
  cwd?: string;
}): Promise<string> {
  checkStepName(options.name);
  const cwd = options.cwd ?? process.cwd();
  const link: Link = {
    _type: 'link',
    name: options.name,
    materials: await collectArtifacts(options.materials, { ...options.collect, basePath: resolve(cwd, options.collect.basePath ?? '.') }),
    products: {},
    byproducts: {},
    command: [],
    environment: {},
  };
  // the preliminary link lives in the working folder, as the reference keeps it
  const path = join(cwd, unfinishedLinkName(options.name, options.signer.keyid));
  await writeMetadataFile(path, signMetablock(link, [options.signer]));
  return path;
}

/**
 * `in-toto-record stop`: checks that the preliminary link is the signer's own and unaltered, adds the
 * products, signs the final link and removes the preliminary one.
 */
export async function recordStop(options: {
  name: string;
  signer: Signer;
  /**
   * Whether a signature on the preliminary link is trusted. Default: made by the signer's own key. A
   * certificate signer whose certificate rotated since `record start` passes a check of the certificate
   * carried in the signature instead (same identity, same trust bundle).
   */
  trustsPreliminary?: (signature: Signature, signedBytes: Buffer) => boolean;
  /** Where `record start` left the preliminary link, when it was signed by another key (a rotated SVID). */
  preliminaryKeyid?: string;
  /** The folder the step ran in, where `record start` left the preliminary link. */
  cwd?: string;
  products: string[];
  collect: CollectOptions;
  metadataDirectory?: string;
  format?: LinkFormat;
}): Promise<string> {
  checkStepName(options.name);
  const cwd = options.cwd ?? process.cwd();
  const unfinished = unfinishedLinkName(options.name, options.preliminaryKeyid ?? options.signer.keyid);
  const unfinishedPath = join(cwd, unfinished);
  const metablock = await loadUnfinished(unfinishedPath, unfinished, options.name);
  const trusted = options.trustsPreliminary
    ? metablock.signatures.some((s) => options.trustsPreliminary!(s, canonicalJsonBytes(metablock.signed)))
    : verifyMetablockSignature(metablock, options.signer.publicKey);
  if (!trusted) {
    throw new EvidentError('BAD_SIGNATURE', 'the preliminary link is not signed by this key, or was changed after record start', {
      file: unfinished,
    });
  }
  const collect = { ...options.collect, basePath: resolve(cwd, options.collect.basePath ?? '.') };
  const link: Link = { ...metablock.signed, products: await collectArtifacts(options.products, collect) };
  const path = await writeSignedLink(link, options.signer, {
    directory: resolve(cwd, options.metadataDirectory ?? '.'),
    format: options.format ?? 'link',
  });
  await unlink(unfinishedPath);
  return path;
}

async function loadUnfinished(path: string, shown: string, step: string): Promise<Metablock<Link>> {
  try {
    await access(path);
  } catch {
    throw new EvidentError('BAD_USAGE', `no preliminary link for step '${step}' signed by this key: run 'evident record start' first`, {
      file: shown,
    });
  }
  const file = await loadMetadataFile(path, { displayName: shown });
  if (file.format !== 'metablock' || file.metablock.signed._type !== 'link') {
    throw new EvidentError('BAD_INPUT', 'is not a preliminary link', { file: shown });
  }
  return file.metablock as Metablock<Link>;
}
