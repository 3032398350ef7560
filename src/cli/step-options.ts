import { isAbsolute, relative } from 'node:path';
import { Option, type Command } from 'commander';
import { EvidentError } from '../errors.js';
import type { Signer } from '../crypto/signer.js';
import type { SignerIdentity } from '../intoto/runlib/record-preliminary.js';
import type { CollectOptions } from '../intoto/record/index.js';
import type { LinkFormat } from '../intoto/runlib/link-output.js';
import type { CliContext } from './context.js';
import { addGpgSigningOption, checkGpgHome, gpgKeyids, gpgSigner, type GpgFlags } from './gpg-options.js';
import { addPasswordOptions, keyPasswords, loadSigningKey, type PasswordFlags } from './key-password.js';
import { progressReporter } from './progress.js';
import { WORKLOAD_API_SOCKET_HELP } from './workload-api-socket.js';

/** The flags `evident run` and `evident record` share with in-toto-run / in-toto-record. */
export interface StepFlags extends PasswordFlags, GpgFlags {
  stepName: string;
  key?: string;
  cert?: string;
  spiffeSocket?: string | boolean;
  spiffeId?: string;
  keyType?: string;
  exclude?: string[];
  basePath?: string;
  lstripPaths?: string[];
  followSymlinkDirs?: boolean;
  metadataDirectory?: string;
  format: string;
  useDsse?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

export function addStepOptions(command: Command): Command {
  command
    .requiredOption('-n, --step-name <name>', "the step's name in the layout; the link is written to <name>.<keyid[:8]>.link")
    .option('-k, --key <path>', 'private key to sign the link (PEM or securesystemslib JSON)')
    .option(
      '-c, --cert <path>',
      "with -k: the key's certificate (PEM, then any intermediates), written into the signature (in-toto-golang's -c)",
    )
    .option('--spiffe-socket [path]', `sign with the X509-SVID from the SPIFFE Workload API: ${WORKLOAD_API_SOCKET_HELP}`)
    .option('--spiffe-id <id>', 'which SVID to sign with, when the Workload API gives several')
    .addOption(new Option('-t, --key-type <type>', 'type of the key, checked against the key file').choices(['ed25519', 'ecdsa', 'rsa']));
  addGpgSigningOption(command);
  addPasswordOptions(command, { purpose: 'decrypt' });
  return command
    .option('--exclude <pattern...>', 'gitignore-style patterns of paths not to record (replace the defaults)')
    .option('--base-path <path>', 'record paths relative to this folder')
    .option('--lstrip-paths <prefix...>', 'strip these prefixes from recorded names')
    .option('--follow-symlink-dirs', 'record the files in symlinked folders too, as in-toto-run does (off: they may lead out of the tree)')
    .option('-d, --metadata-directory <dir>', 'write the link into this folder')
    .addOption(
      new Option(
        '--format <format>',
        'link (in-toto metablock), dsse (in-toto Statement in a DSSE envelope) or dsse-link (the link itself in a DSSE envelope, as in-toto-golang writes it)',
      )
        .choices(['link', 'dsse', 'dsse-link'])
        .default('link'),
    )
    .option('--use-dsse', 'the same as --format dsse (the reference in-toto-run spells it so)')
    .addOption(new Option('-v, --verbose', 'say more about what is recorded').conflicts('quiet'))
    .option('-q, --quiet', 'say nothing but errors');
}

/** Who signs the link, and how a preliminary link it signed earlier is recognised. */
export interface StepIdentity {
  signer: Signer;
  /** Only for SVIDs, which may be renewed between `record start` and `record stop`: which earlier SVIDs are the same signer. */
  identity?: SignerIdentity;
}

/** A static key (`-k`) or the workload's SVID from the SPIFFE Workload API (`--spiffe-socket`). */
export async function stepIdentity(flags: StepFlags, ctx: CliContext): Promise<StepIdentity> {
  if (flags.cert !== undefined && flags.key === undefined)
    throw new EvidentError('BAD_USAGE', '--cert is the certificate of a key: it needs -k KEY');
  if (flags.gpg !== undefined && flags.spiffeSocket !== undefined) {
    throw new EvidentError('BAD_USAGE', 'sign with either --gpg [KEYID] or --spiffe-socket, not both');
  }
  if (flags.key !== undefined && flags.spiffeSocket !== undefined) {
    throw new EvidentError('BAD_USAGE', 'sign with either -k KEY or --spiffe-socket, not both');
  }
  if (flags.spiffeSocket !== undefined) {
    // loaded only here: the gRPC and X.509 libraries cost a static-key run most of its start-up time
    const { fetchX509Context, pickSvid } = await import('../spiffe/workloadapi/client.js');
    const { svidSigner } = await import('../spiffe/x509svid/signer.js');
    const { svidIdentity } = await import('../spiffe/x509svid/signer-identity.js');
    const address = typeof flags.spiffeSocket === 'string' ? flags.spiffeSocket : undefined;
    const context = await fetchX509Context({ address, env: ctx.io.env, cwd: ctx.io.cwd });
    const svid = pickSvid(context.svids, { spiffeId: flags.spiffeId });
    if (flags.verbose) ctx.err(`evident: signing as ${svid.id.toString()} (SVID valid until ${svid.expiresAt.toISOString()})`);
    return {
      signer: svidSigner(svid),
      identity: svidIdentity(svid.id, context.bundles),
    };
  }
  if (flags.spiffeId !== undefined) throw new EvidentError('BAD_USAGE', '--spiffe-id chooses among SVIDs: it needs --spiffe-socket');
  checkGpgHome(flags, '');
  if (flags.gpg !== undefined) {
    // as in-toto-run: either -k or --gpg; gpg's default key without a keyid
    if (flags.key !== undefined) throw new EvidentError('BAD_USAGE', 'sign with either -k KEY or --gpg [KEYID], not both');
    if (flags.format !== 'link' || flags.useDsse)
      throw new EvidentError('BAD_USAGE', '--gpg signs links as the reference does, as metablocks: leave out --format/--use-dsse');
    return { signer: await gpgSigner(gpgKeyids(flags)[0], flags, ctx) };
  }
  if (flags.key === undefined)
    throw new EvidentError(
      'BAD_USAGE',
      'a signing identity is needed: -k KEY, or --spiffe-socket for an SVID, or --gpg [KEYID] for an OpenPGP key',
    );
  const key = await loadSigningKey(ctx, flags.key, await keyPasswords(flags, ctx));
  if (flags.keyType !== undefined && key.publicKey.keytype !== flags.keyType) {
    throw new EvidentError('BAD_KEY', `--key-type ${flags.keyType} given, but the key is ${key.publicKey.keytype}`, { file: flags.key });
  }
  if (flags.cert !== undefined) {
    const { certificateKeySigner } = await import('./certificate-key.js');
    return { signer: await certificateKeySigner(key, flags.cert, ctx.io.cwd) };
  }
  return { signer: key };
}

export function collectOptions(flags: StepFlags, ctx: CliContext): CollectOptions {
  return {
    basePath: flags.basePath,
    excludePatterns: flags.exclude,
    lstripPaths: flags.lstripPaths,
    followSymlinkDirs: flags.followSymlinkDirs ?? false,
    onWarning: flags.quiet ? undefined : (message) => ctx.warn(message),
    onProgress: flags.quiet ? undefined : progressReporter(ctx),
  };
}

export function linkFormat(flags: StepFlags): LinkFormat {
  if (flags.format === 'dsse-link') return 'dsse-link';
  return flags.format === 'dsse' || flags.useDsse ? 'dsse' : 'link';
}

/** A file the command wrote, as the user would name it: relative to their folder when inside it. */
export function shownPath(ctx: CliContext, path: string): string {
  const rel = relative(ctx.io.cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
