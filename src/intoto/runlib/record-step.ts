import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Signer } from '../../crypto/signer.js';
import { collectArtifacts } from '../record/index.js';
import type { CollectOptions } from '../record/index.js';
import { signMetablock, writeMetadataFile } from '../models/metablock.js';
import type { Link } from '../models/types.js';
import { writeSignedLink, type LinkFormat } from './link-output.js';
import {
  checkPreliminarySigner,
  DEFAULT_MAX_STEP_DURATION_MS,
  loadUnfinished,
  unfinishedLinkName,
  type SignerIdentity,
} from './record-preliminary.js';
import { checkStepName } from './step-name.js';
import { requirePaths } from './missing-paths.js';
import { prepareTimestamping, type SignatureTimestamping } from './timestamp-signatures.js';

/** `in-toto-record start`: hashes the materials into a signed preliminary link. */
export async function recordStart(options: {
  name: string;
  signer: Signer;
  materials: string[];
  collect: CollectOptions;
  cwd?: string;
  /** Record even when a material path does not exist, as the reference does. */
  allowMissing?: boolean;
}): Promise<string> {
  checkStepName(options.name);
  const cwd = options.cwd ?? process.cwd();
  const collect = { ...options.collect, basePath: resolve(cwd, options.collect.basePath ?? '.') };
  // a path given that names nothing stops the recording, as in `evident run`, unless allowMissing
  if (!options.allowMissing) await requirePaths(options.materials, collect.basePath, 'material', 'no preliminary link written');
  const link: Link = {
    _type: 'link',
    name: options.name,
    materials: await collectArtifacts(options.materials, collect),
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
 * products, signs the final link and removes the preliminary one. A certificate signer (an SVID) renewed
 * since `record start` finishes the preliminary link of its earlier certificate when `identity` says that
 * certificate is of the same identity (same SPIFFE ID, same trust bundle) and it expired less than
 * `maxStepDurationMs` ago.
 */
export async function recordStop(options: {
  name: string;
  signer: Signer;
  /** The signer's identity, for a certificate signer whose certificate may have been renewed since `record start`. */
  identity?: SignerIdentity;
  /** The longest a step may take from `record start` to `record stop` (default 24 h); bounds how old the earlier certificate may be. */
  maxStepDurationMs?: number;
  /** Where `record start` left the preliminary link, when it was signed by another key (a renewed SVID). */
  preliminaryKeyid?: string;
  /** The folder the step ran in, where `record start` left the preliminary link. */
  cwd?: string;
  products: string[];
  collect: CollectOptions;
  metadataDirectory?: string;
  format?: LinkFormat;
  /** Record even when a product path does not exist, as the reference does. */
  allowMissing?: boolean;
  /**
   * Time-stamp the final link's signature with a token from each of these TSAs (RFC 3161). A TSA that
   * fails, unless `optional`, means no link is written and the preliminary link is kept, to try again.
   */
  timestamps?: SignatureTimestamping;
  /** Now (tests freeze it). */
  now?: () => Date;
}): Promise<string> {
  checkStepName(options.name);
  prepareTimestamping(options.timestamps);
  const cwd = options.cwd ?? process.cwd();
  const unfinished = unfinishedLinkName(options.name, options.preliminaryKeyid ?? options.signer.keyid);
  const unfinishedPath = join(cwd, unfinished);
  const metablock = await loadUnfinished(unfinishedPath, unfinished, options.name);
  checkPreliminarySigner(
    metablock,
    {
      signer: options.signer,
      identity: options.identity,
      maxStepDurationMs: options.maxStepDurationMs ?? DEFAULT_MAX_STEP_DURATION_MS,
      now: options.now?.() ?? new Date(),
    },
    unfinished,
  );
  const collect = { ...options.collect, basePath: resolve(cwd, options.collect.basePath ?? '.') };
  if (!options.allowMissing)
    await requirePaths(options.products, collect.basePath, 'product', 'no link written, the preliminary link is kept');
  const link: Link = { ...metablock.signed, products: await collectArtifacts(options.products, collect) };
  const path = await writeSignedLink(link, options.signer, {
    directory: resolve(cwd, options.metadataDirectory ?? '.'),
    format: options.format ?? 'link',
    timestamps: options.timestamps,
    consequence: 'no link written, the preliminary link is kept',
  });
  await unlink(unfinishedPath);
  return path;
}
