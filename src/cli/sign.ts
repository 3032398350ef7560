import type { Command } from 'commander';
import { resolve } from 'node:path';
import { addEnvelopeSignature, envelopePayload, signEnvelope, type DsseEnvelope } from '../crypto/dsse.js';
import { loadPrivateKey, loadPublicKey } from '../crypto/key-files.js';
import type { PrivateKey } from '../crypto/keys.js';
import { EvidentError } from '../errors.js';
import { linkFileName } from '../intoto/models/link.js';
import {
  loadMetadataFile,
  signedOf,
  signMetablock,
  verifyMetadataSignature,
  writeMetadataFile,
  type MetadataFile,
} from '../intoto/models/metablock.js';
import type { Metablock } from '../intoto/models/types.js';
import { asGiven, type CliContext } from './context.js';

interface SignOptions {
  key?: string[];
  output?: string;
  append?: boolean;
  verify?: boolean;
  password?: string;
  json?: boolean;
}

/**
 * `evident sign -k KEY… FILE [-o OUT] [--append] [--verify]`, like the reference's `in-toto-sign`:
 * replaces (or with --append adds to) the signatures of a layout or link; a link is signed by one key
 * and written to `<step>.<keyid[:8]>.link` unless -o; a layout is overwritten unless -o. With --verify
 * the keys are public keys and the command checks that each signed the file: exit 0, or 1 if any did not.
 * Since -k takes several keys, FILE may also come first (`evident sign root.layout -k a b`).
 */
export function registerSign(program: Command, ctx: CliContext): void {
  program
    .command('sign')
    .description('sign a layout or link (replacing its signatures, or --append), or --verify its signatures')
    .argument('[file]', 'the layout or link to sign (a metablock or a DSSE envelope)')
    .option('-k, --key <files...>', 'private keys to sign with (public keys with --verify): PEM or securesystemslib JSON')
    .option('-o, --output <file>', 'where to write (default: a layout overwrites FILE; a link goes to <step>.<keyid[:8]>.link)')
    .option('-a, --append', 'keep the existing signatures and add these (layouts only, as in-toto-sign)')
    .option('--verify', 'check that each key signed FILE instead of signing: exit 0 if all did, 1 if not')
    .option('--password <password>', 'password of encrypted PEM private keys')
    .option('--json', 'print the result as JSON')
    .action(
      ctx.action(async (fileArg: string | undefined, opts: SignOptions) => {
        const keys = [...(opts.key ?? [])];
        // `-k a.key b.key root.layout`: commander gives the file to -k; the last word is the file then
        const file = fileArg ?? (keys.length > 1 ? keys.pop() : undefined);
        if (file === undefined) throw new EvidentError('BAD_USAGE', 'sign: give the file to sign: evident sign -k KEY… FILE');
        if (keys.length === 0) throw new EvidentError('BAD_USAGE', 'sign: give at least one key with -k');
        const loaded = await loadMetadataFile(resolve(ctx.io.cwd, file), { displayName: file });
        if (opts.verify) return verify(ctx, loaded, keys, file, opts.json === true);
        return sign(ctx, loaded, keys, file, opts);
      }),
    );
}

async function verify(ctx: CliContext, loaded: MetadataFile, keyFiles: string[], file: string, json: boolean): Promise<number> {
  const results: { key: string; keyid: string; valid: boolean }[] = [];
  for (const keyFile of keyFiles) {
    const key = await asGiven(loadPublicKey(resolve(ctx.io.cwd, keyFile)), keyFile);
    results.push({ key: keyFile, keyid: key.keyid, valid: verifyMetadataSignature(loaded, key) });
  }
  const ok = results.every((r) => r.valid);
  if (json) ctx.out(JSON.stringify({ file, valid: ok, signatures: results }));
  else for (const r of results) ctx.out(`${file}: signature by ${r.keyid} (${r.key}): ${r.valid ? 'valid' : 'MISSING OR INVALID'}`);
  return ok ? 0 : 1;
}

async function sign(ctx: CliContext, loaded: MetadataFile, keyFiles: string[], file: string, opts: SignOptions): Promise<number> {
  const signed = signedOf(loaded);
  if (signed._type === 'link' && keyFiles.length > 1) {
    throw new EvidentError('BAD_USAGE', 'sign: a link is evidence of one functionary and is signed by one key (<step>.<keyid[:8]>.link)');
  }
  if (signed._type === 'link' && opts.append) {
    throw new EvidentError('BAD_USAGE', 'sign: --append is for layouts; a link is signed by one key (<step>.<keyid[:8]>.link)');
  }
  const keys: PrivateKey[] = [];
  for (const keyFile of keyFiles)
    keys.push(await asGiven(loadPrivateKey(resolve(ctx.io.cwd, keyFile), { password: opts.password }), keyFile));
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
  const last = keys[keys.length - 1] as PrivateKey;
  const out = opts.output ?? (signed._type === 'link' ? linkFileName(signed.name, last.keyid) : file);
  await writeMetadataFile(resolve(ctx.io.cwd, out), result);
  if (opts.json) ctx.out(JSON.stringify({ file: out, type: signed._type, signatures: count, keyids: keys.map((k) => k.keyid) }));
  else
    ctx.out(
      `${out}: ${signed._type} signed by ${keys.map((k) => k.keyid.slice(0, 8)).join(', ')} (${count} signature${count === 1 ? '' : 's'})`,
    );
  return 0;
}
