import { resolve } from 'node:path';
import { EvidentError } from '../../errors.js';
import type { Signer } from '../../crypto/signer.js';
import { collectArtifacts, runCommand } from '../record/index.js';
import type { CollectOptions } from '../record/index.js';
import type { Link } from '../models/types.js';
import { writeSignedLink, type LinkFormat } from './link-output.js';
import { requirePaths } from './missing-paths.js';
import { checkStepName } from './step-name.js';
import { prepareTimestamping, type SignatureTimestamping } from './timestamp-signatures.js';

/** What to record around a step; each field mirrors an `in-toto-run` flag. */
export interface RunStepOptions {
  name: string;
  /**
   * A static key, or an SVID's key with its certificate. A function is called once the command has
   * finished: a short-lived certificate fetched then is valid when it signs, however long the step took.
   */
  signer: Signer | (() => Promise<Signer>);
  materials: string[];
  products: string[];
  /** The command and its arguments; empty for `--no-command`. */
  command: string[];
  recordStreams: boolean;
  /** The folder the step runs in: the command's working folder, and what relative paths are relative to. */
  cwd?: string;
  /** Where the link is written (default: the working folder). */
  metadataDirectory?: string;
  format?: LinkFormat;
  /** Adds `environment.workdir`, as the reference's record_environment does. */
  recordEnvironment?: boolean;
  collect: Omit<CollectOptions, 'onProgress'> & { onProgress?: CollectOptions['onProgress'] };
  /** Kills the command after this many milliseconds. */
  timeoutMs?: number;
  /**
   * Record the step even when a material or product path given does not exist, as the reference does
   * (with a warning each). Without it, a missing material stops the step before its command runs, and a
   * missing product after a command that succeeded (or with no command) stops it before its link is
   * written: a mistyped path would otherwise make a link that fails verification, or passes without the file.
   * After a command that failed, missing products are expected: the link, the evidence of the failure, is written.
   */
  allowMissing?: boolean;
  /**
   * Time-stamp the link's signature with a token from each of these TSAs (RFC 3161). A TSA that fails,
   * unless `optional`, means no link is written (after the command has run).
   */
  timestamps?: SignatureTimestamping;
}

export interface StepResult {
  link: Link;
  path: string;
  /** The command's exit code (minus the signal number when a signal killed it); 0 without a command. */
  exitCode: number;
  /** Who signed the link (the SVID fetched once the command was done): what signs its provenance too. */
  signer: Signer;
}

/**
 * `in-toto-run`: hashes the materials, runs the command, hashes the products, signs the link and writes it.
 * The command's exit code is evidence: it is recorded in the byproducts and returned; what a failed
 * command means for the caller (`evident run` exits with it) is the caller's to decide.
 */
export async function runStep(options: RunStepOptions): Promise<StepResult> {
  checkStepName(options.name);
  if (options.command.length === 0 && options.materials.length === 0 && options.products.length === 0) {
    throw new EvidentError('BAD_USAGE', 'nothing to record: give a command, or -x with materials or products');
  }
  // a TSA address that cannot work is refused before the command runs
  prepareTimestamping(options.timestamps);
  const cwd = options.cwd ?? process.cwd();
  const collect = { ...options.collect, basePath: resolve(cwd, options.collect.basePath ?? '.') };
  const ran = options.command.length > 0;
  if (!options.allowMissing)
    await requirePaths(
      options.materials,
      collect.basePath,
      'material',
      ran ? 'the command was not run, no link written' : 'no link written',
    );
  const materials = await collectArtifacts(options.materials, collect);
  const byproducts = ran
    ? await runCommand(options.command, { recordStreams: options.recordStreams, timeout: options.timeoutMs, cwd })
    : undefined;
  const exitCode = byproducts?.['return-value'] ?? 0;
  if (!options.allowMissing && exitCode === 0) {
    const consequence = ran ? 'the command succeeded without making it, no link written' : 'no link written';
    await requirePaths(options.products, collect.basePath, 'product', consequence);
  }
  const products = await collectArtifacts(options.products, collect);
  const link: Link = {
    _type: 'link',
    name: options.name,
    materials,
    products,
    byproducts: { ...byproducts },
    command: options.command,
    environment: options.recordEnvironment ? { workdir: cwd.replaceAll('\\', '/') } : {},
  };
  const signer = typeof options.signer === 'function' ? await options.signer() : options.signer;
  const path = await writeSignedLink(link, signer, {
    directory: resolve(cwd, options.metadataDirectory ?? '.'),
    format: options.format ?? 'link',
    timestamps: options.timestamps,
    consequence: ran ? 'the command ran, but no link was written' : 'no link written',
  });
  return { link, path, exitCode, signer };
}
