import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { PrivateKey } from '../crypto/keys.js';
import { EvidentError } from '../errors.js';
import type { CliContext } from './context.js';
import { addPasswordOptions, keyPasswords, loadSigningKey, type PasswordFlags } from './key-password.js';
import { addTimestampOptions, signatureTimestamping, takeTrailingFile, type TimestampFlags } from './timestamp-options.js';

interface CreateOptions extends PasswordFlags, TimestampFlags {
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
      const spec = specArg ?? takeTrailingFile(opts) ?? (keyFiles.length > 1 ? keyFiles.pop() : undefined);
      if (spec === undefined)
        throw new EvidentError('BAD_USAGE', 'layout create: give the spec: evident layout create SPEC.yaml -k OWNER_KEY…');
      if (keyFiles.length === 0) throw new EvidentError('BAD_USAGE', 'layout create: give at least one owner key with -k');
      const timestamps = signatureTimestamping(opts, ctx);
      const compiled = await compileLayoutSpec(resolve(ctx.io.cwd, spec), { displayName: spec });
      const passwords = await keyPasswords(opts, ctx);
      const keys: PrivateKey[] = [];
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
