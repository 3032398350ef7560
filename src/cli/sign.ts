import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { addEnvelopeSignature, envelopePayload, signEnvelope, type DsseEnvelope } from '../crypto/dsse.js';
import type { Signer } from '../crypto/signer.js';
import { EvidentError } from '../errors.js';
import { linkFileName } from '../intoto/models/link.js';
import type { MetadataFile } from '../intoto/models/metablock.js';
import type { Metablock } from '../intoto/models/types.js';
import type { SignatureTimestamping } from '../intoto/runlib/timestamp-signatures.js';
import { asGiven, type CliContext } from './context.js';
import {
  checkGpgHome,
  GPG_HOME_HELP,
  gpgKeyids,
  gpgPublicKeys,
  gpgSigner,
  gpgSigningKeyids,
  takeGpgTrailingFile,
  type GpgFlags,
} from './gpg-options.js';
import { addPasswordOptions, keyPasswords, loadSigningKey, type KeyPasswords, type PasswordFlags } from './key-password.js';
import { keyTypesOption, noteKeyTypes } from './key-types-note.js';
import { addTimestampOptions, signatureTimestamping, takeTrailingFile, type TimestampFlags } from './timestamp-options.js';

interface SignOptions extends PasswordFlags, TimestampFlags, GpgFlags {
  key?: string[];
  cert?: string;
  file?: string;
  output?: string;
  append?: boolean;
  verify?: boolean;
  json?: boolean;
  keyType?: string[];
  verbose?: boolean;
  quiet?: boolean;
}

/**
 * `evident sign -k KEY… FILE [-o OUT] [--append] [--verify]`, like the reference's `in-toto-sign`:
 * replaces (or with --append adds to) the signatures of a layout or link; a link is signed by one key
 * and written to `<step>.<keyid[:8]>.link` unless -o; a layout is overwritten unless -o. With --verify
 * the keys are public keys and the command checks that each signed the file: exit 0, or 1 if any did not.
 * Since -k takes several keys, FILE may also come first (`evident sign root.layout -k a b`), or be given
 * with -f as in-toto-sign takes it.
 */
export function registerSign(program: Command, ctx: CliContext): void {
  const command = program
    .command('sign')
    .description('sign a layout or link (replacing its signatures, or --append), or --verify its signatures')
    .argument('[file]', 'the layout or link to sign (a metablock or a DSSE envelope)')
    .option('-f, --file <file>', 'the file to sign, as in-toto-sign -f (instead of the argument)')
    .option('-k, --key <files...>', 'private keys to sign with (public keys with --verify): PEM or securesystemslib JSON')
    .option(
      '-c, --cert <path>',
      "with one -k: the key's certificate (PEM, then any intermediates), written into the signature as in-toto-golang does",
    )
    .option(
      '-g, --gpg [keyids...]',
      "OpenPGP keys of the gpg keyring to sign with (gpg's default key without a keyid), or with --verify to check, as in-toto-sign --gpg",
    )
    .option('--gpg-home <dir>', GPG_HOME_HELP)
    .option('-o, --output <file>', 'where to write (default: a layout overwrites FILE; a link goes to <step>.<keyid[:8]>.link)')
    .option('-a, --append', 'keep the existing signatures and add these (layouts only, as in-toto-sign)')
    .option('--verify', 'check that each key signed FILE instead of signing: exit 0 if all did, 1 if not')
    .option('--json', 'print the result as JSON')
    .addOption(keyTypesOption('--key-type'))
    .addOption(new Option('-v, --verbose', 'name each key and its full keyid').conflicts('quiet'))
    .option('-q, --quiet', 'print nothing but errors (with --verify: only the keys that did not sign)');
  addTimestampOptions(command, 'file');
  addPasswordOptions(command, { purpose: 'decrypt', promptFlag: true }).action(
    ctx.action(async (fileArg: string | undefined, opts: SignOptions) => {
      if (fileArg !== undefined && opts.file !== undefined)
        throw new EvidentError('BAD_USAGE', `sign: give the file once: as the argument or with -f, not both`);
      noteKeyTypes(ctx, opts.keyType, opts.quiet);
      // how the keys' password is given is checked first: a usage error before any file is read
      const passwords = opts.verify ? undefined : await keyPasswords(opts, ctx);
      const keys = [...(opts.key ?? [])];
      // `--gpg KEYID root.layout` and `-k a.key b.key root.layout`: commander gives the file to the option; the last word is the file then
      const file =
        fileArg ?? opts.file ?? takeGpgTrailingFile(opts) ?? takeTrailingFile(opts) ?? (keys.length > 1 ? keys.pop() : undefined);
      const gpgIds = gpgKeyids(opts);
      if (file === undefined) throw new EvidentError('BAD_USAGE', 'sign: give the file to sign: evident sign -k KEY… FILE');
      checkGpgHome(opts, 'sign');
      if (opts.gpg !== undefined && keys.length > 0)
        throw new EvidentError('BAD_USAGE', 'sign: give either -k KEY… or --gpg [KEYID…], not both');
      if (opts.gpg !== undefined && opts.verify && gpgIds.length === 0)
        throw new EvidentError('BAD_USAGE', 'sign: --verify with --gpg needs the keyids to check (--gpg KEYID…), as in-toto-sign');
      if (keys.length === 0 && opts.gpg === undefined)
        throw new EvidentError('BAD_USAGE', 'sign: give at least one key with -k (or --gpg)');
      if (opts.cert !== undefined && (keys.length > 1 || opts.verify))
        throw new EvidentError(
          'BAD_USAGE',
          'sign: --cert is the certificate of the one signing key: give it with exactly one -k, and not with --verify',
        );
      if (opts.verify && opts.timestampServer !== undefined)
        throw new EvidentError('BAD_USAGE', 'sign: --timestamp-server time-stamps new signatures; --verify makes none');
      const timestamps = signatureTimestamping(opts, ctx, opts.quiet);
      const { loadMetadataFile } = await metadata();
      const loaded = await loadMetadataFile(resolve(ctx.io.cwd, file), { displayName: file });
      if (passwords === undefined) return verify(ctx, loaded, keys, file, opts);
      return sign(ctx, loaded, keys, file, opts, passwords, timestamps);
    }),
  );
}

/** The metadata models (most of this command's modules), loaded by the action, not by `--help`. */
const metadata = () => import('../intoto/models/metablock.js');

async function verify(ctx: CliContext, loaded: MetadataFile, keyFiles: string[], file: string, opts: SignOptions): Promise<number> {
  const [{ loadPublicKey }, { verifyMetadataSignature }] = await Promise.all([import('../crypto/key-files.js'), metadata()]);
  const results: { key: string; keyid: string; valid: boolean }[] = [];
  for (const keyFile of keyFiles) {
    const key = await asGiven(loadPublicKey(resolve(ctx.io.cwd, keyFile)), keyFile);
    results.push({ key: keyFile, keyid: key.keyid, valid: verifyMetadataSignature(loaded, key) });
  }
  for (const key of opts.gpg !== undefined ? await gpgPublicKeys(gpgKeyids(opts), opts, ctx, opts.quiet) : []) {
    results.push({ key: 'gpg keyring', keyid: key.keyid, valid: verifyMetadataSignature(loaded, key) });
  }
  const ok = results.every((r) => r.valid);
  if (opts.json) ctx.out(JSON.stringify({ file, valid: ok, signatures: results }));
  else
    for (const r of results)
      if (!opts.quiet || !r.valid) ctx.out(`${file}: signature by ${r.keyid} (${r.key}): ${r.valid ? 'valid' : 'MISSING OR INVALID'}`);
  return ok ? 0 : 1;
}

async function sign(
  ctx: CliContext,
  loaded: MetadataFile,
  keyFiles: string[],
  file: string,
  opts: SignOptions,
  passwords: KeyPasswords,
  timestamps: SignatureTimestamping | undefined,
): Promise<number> {
  const { signedOf, signMetablock, writeMetadataFile } = await metadata();
  const signed = signedOf(loaded);
  const gpgIds = gpgSigningKeyids(opts);
  if (signed._type === 'link' && keyFiles.length + gpgIds.length > 1) {
    throw new EvidentError('BAD_USAGE', 'sign: a link is evidence of one functionary and is signed by one key (<step>.<keyid[:8]>.link)');
  }
  if (signed._type === 'link' && opts.append) {
    throw new EvidentError('BAD_USAGE', 'sign: --append is for layouts; a link is signed by one key (<step>.<keyid[:8]>.link)');
  }
  const keys: Signer[] = [];
  if (gpgIds.length > 0 && loaded.format !== 'metablock') {
    throw new EvidentError('BAD_USAGE', 'sign: --gpg signs metablocks, as the reference does, not DSSE envelopes');
  }
  for (const keyid of gpgIds) keys.push(await gpgSigner(keyid, opts, ctx));
  for (const keyFile of keyFiles) {
    const key = await loadSigningKey(ctx, keyFile, passwords);
    // as `run -k KEY -c CERT`: the signature entry carries the certificate, so a verifier checks the signer by its chain
    keys.push(
      opts.cert === undefined ? key : await (await import('./certificate-key.js')).certificateKeySigner(key, opts.cert, ctx.io.cwd),
    );
  }
  let result: Metablock | DsseEnvelope;
  let count: number;
  if (loaded.format === 'metablock') {
    const mb = signMetablock(loaded.metablock.signed, keys, opts.append ? loaded.metablock.signatures : []);
    result = mb;
    count = mb.signatures.length;
  } else {
    const env = opts.append
      ? keys.reduce((e, k) => addEnvelopeSignature(e, k), loaded.envelope)
      : signEnvelope(loaded.envelope.payloadType, envelopePayload(loaded.envelope), keys);
    result = env;
    count = env.signatures.length;
  }
  const last = keys[keys.length - 1] as Signer;
  const out = opts.output ?? (signed._type === 'link' ? linkFileName(signed.name, last.keyid) : file);
  if (timestamps) {
    // the new signatures are the last ones (signMetablock and addEnvelopeSignature append them); those kept keep their tokens
    const { timestampSignatures } = await import('../intoto/runlib/timestamp-signatures.js');
    result = await timestampSignatures(result, timestamps, { newSignatures: keys.length, consequence: `${out} not written` });
  }
  await writeMetadataFile(resolve(ctx.io.cwd, out), result);
  if (opts.json) ctx.out(JSON.stringify({ file: out, type: signed._type, signatures: count, keyids: keys.map((k) => k.keyid) }));
  else if (opts.quiet) return 0;
  else if (opts.verbose)
    for (const [i, k] of keys.entries())
      ctx.out(
        `${out}: signed by ${k.keyid} (${keyFiles[i - gpgIds.length] ?? 'gpg keyring'}, ${k.publicKey.scheme}${k.certificate !== undefined ? ', with --cert' : ''})`,
      );
  else
    ctx.out(
      `${out}: ${signed._type} signed by ${keys.map((k) => k.keyid.slice(0, 8)).join(', ')} (${count} signature${count === 1 ? '' : 's'})`,
    );
  return 0;
}
