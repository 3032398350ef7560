import { Option, type Command } from 'commander';
import { EvidentError } from '../errors.js';
import { loadPrivateKey } from '../crypto/key-files.js';
import type { PrivateKey } from '../crypto/keys.js';
import type { CollectOptions } from '../intoto/record/index.js';
import type { LinkFormat } from '../intoto/runlib/link-output.js';
import type { CliContext } from './context.js';
import { progressReporter } from './progress.js';

/** The flags `evident run` and `evident record` share with in-toto-run / in-toto-record. */
export interface StepFlags {
  stepName: string;
  key?: string;
  keyType?: string;
  password?: string;
  exclude?: string[];
  basePath?: string;
  lstripPaths?: string[];
  metadataDirectory?: string;
  format: string;
  verbose?: boolean;
  quiet?: boolean;
}

export function addStepOptions(command: Command): Command {
  return command
    .requiredOption('-n, --step-name <name>', "the step's name in the layout; the link is written to <name>.<keyid[:8]>.link")
    .option('-k, --key <path>', 'private key to sign the link (PEM or securesystemslib JSON)')
    .addOption(new Option('-t, --key-type <type>', 'type of the key, checked against the key file').choices(['ed25519', 'ecdsa', 'rsa']))
    .option('-P, --password <password>', 'password of an encrypted key')
    .option('--exclude <pattern...>', 'gitignore-style patterns of paths not to record (replace the defaults)')
    .option('--base-path <path>', 'record paths relative to this folder')
    .option('--lstrip-paths <prefix...>', 'strip these prefixes from recorded names')
    .option('-d, --metadata-directory <dir>', 'write the link into this folder')
    .addOption(new Option('--format <format>', 'link (in-toto metablock) or dsse (in-toto Statement in a DSSE envelope)').choices(['link', 'dsse']).default('link'))
    .option('-v, --verbose', 'say more about what is recorded')
    .option('-q, --quiet', 'say nothing but errors');
}

export async function signingKey(flags: StepFlags): Promise<PrivateKey> {
  if (flags.key === undefined) throw new EvidentError('BAD_USAGE', 'a signing key is needed: -k KEY');
  const key = await loadPrivateKey(flags.key, { password: flags.password });
  if (flags.keyType !== undefined && key.publicKey.keytype !== flags.keyType) {
    throw new EvidentError('BAD_KEY', `--key-type ${flags.keyType} given, but the key is ${key.publicKey.keytype}`, { file: flags.key });
  }
  return key;
}

export function collectOptions(flags: StepFlags, ctx: CliContext): CollectOptions {
  return {
    basePath: flags.basePath,
    excludePatterns: flags.exclude,
    lstripPaths: flags.lstripPaths,
    onWarning: flags.quiet ? undefined : (message) => ctx.warn(message),
    onProgress: flags.quiet ? undefined : progressReporter(ctx),
  };
}

export function linkFormat(flags: StepFlags): LinkFormat {
  return flags.format === 'dsse' ? 'dsse' : 'link';
}
