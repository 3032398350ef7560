import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { Signer } from '../crypto/signer.js';
import { EvidentError } from '../errors.js';
import type { CliContext } from './context.js';
import { checkGpgHome, GPG_HOME_HELP, gpgSigner, gpgSigningKeyids, takeGpgTrailingFile, type GpgFlags } from './gpg-options.js';
import { addPasswordOptions, keyPasswords, loadSigningKey, type PasswordFlags } from './key-password.js';
import { addTimestampOptions, signatureTimestamping, takeTrailingFile, type TimestampFlags } from './timestamp-options.js';

interface CreateOptions extends PasswordFlags, TimestampFlags, GpgFlags {
  key?: string[];
  output: string;
  json?: boolean;
}

/**
 * `evident layout create SPEC.yaml -k OWNER_KEY… [-o root.layout]`: compiles the YAML layout spec
 * (docs/ARCHITECTURE.md, layout specs) to the layout the reference reads, signs it with each owner key and writes it
 * atomically. Every mistake in the spec is printed on its own line with its YAML line number.
 */
export function registerLayout(program: Command, ctx: CliContext): void {
  const layout = program.command('layout').description('write layouts (the signed supply-chain policy)');
  const create = layout
    .command('create')
    .description('compile a YAML layout spec and sign it with the owner keys')
    .argument('[spec]', 'the layout spec (YAML); key and root files in it are relative to it')
    .option('-k, --key <files...>', "the layout owners' private keys (PEM or securesystemslib JSON)")
    .option('-g, --gpg [keyids...]', "the layout owners' OpenPGP keys of the gpg keyring to sign with (gpg's default key without a keyid)")
    .option('--gpg-home <dir>', GPG_HOME_HELP)
    .option('-o, --output <file>', 'where to write the signed layout', 'root.layout')
    .option('--json', 'print the result as JSON');
  addTimestampOptions(create, 'layout');
  addPasswordOptions(create, { purpose: 'decrypt' }).action(
    ctx.action(async (specArg: string | undefined, opts: CreateOptions) => {
      // loaded here, not by `--help`: the YAML and X.509 libraries are most of this command's start-up
      const [{ compileLayoutSpec }, { signMetablock, writeMetadataFile }, { rootExpiryNotices }, { timestampSignatures }] =
        await Promise.all([
          import('../intoto/layout-spec/compile.js'),
          import('../intoto/models/metablock.js'),
          import('../intoto/models/root-expiry.js'),
          import('../intoto/runlib/timestamp-signatures.js'),
        ]);
      const keyFiles = [...(opts.key ?? [])];
      // `--gpg KEYID root.yaml`: commander gives the spec to --gpg
      const gpgSpec = takeGpgTrailingFile(opts);
      const spec = specArg ?? gpgSpec ?? takeTrailingFile(opts) ?? (keyFiles.length > 1 ? keyFiles.pop() : undefined);
      if (spec === undefined)
        throw new EvidentError('BAD_USAGE', 'layout create: give the spec: evident layout create SPEC.yaml -k OWNER_KEY…');
      checkGpgHome(opts, 'layout create');
      if (keyFiles.length === 0 && opts.gpg === undefined)
        throw new EvidentError('BAD_USAGE', 'layout create: give at least one owner key with -k (or --gpg)');
      const timestamps = signatureTimestamping(opts, ctx);
      const compiled = await compileLayoutSpec(resolve(ctx.io.cwd, spec), { displayName: spec });
      const passwords = await keyPasswords(opts, ctx);
      const keys: Signer[] = [];
      for (const keyid of gpgSigningKeyids(opts)) keys.push(await gpgSigner(keyid, opts, ctx));
      for (const keyFile of keyFiles) keys.push(await loadSigningKey(ctx, keyFile, passwords));
      for (const notice of rootExpiryNotices(compiled, new Date())) ctx.warn(notice);
      const signed = signMetablock(compiled, keys);
      const metablock = timestamps ? await timestampSignatures(signed, timestamps, { consequence: `${opts.output} not written` }) : signed;
      await writeMetadataFile(resolve(ctx.io.cwd, opts.output), metablock);
      const summary = {
        file: opts.output,
        steps: compiled.steps.length,
        inspections: compiled.inspect.length,
        expires: compiled.expires,
        keyids: keys.map((k) => k.keyid),
      };
      if (opts.json) ctx.out(JSON.stringify(summary));
      else
        ctx.out(
          `${opts.output}: layout with ${count(summary.steps, 'step')} and ${count(summary.inspections, 'inspection')}, expires ${summary.expires}, signed by ${summary.keyids.map((k) => k.slice(0, 8)).join(', ')}`,
        );
      return 0;
    }),
  );
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
