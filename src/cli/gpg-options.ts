import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { PublicKey } from '../crypto/keys.js';
import type { Signer } from '../crypto/signer.js';
import { GPG_KEYID } from '../crypto/gpg/key-dict.js';
import { EvidentError } from '../errors.js';
import type { CliContext } from './context.js';

/**
 * The reference's OpenPGP flags (in-toto-run, in-toto-record, in-toto-sign, in-toto-verify): `--gpg`
 * names keys in the gpg keyring by keyid, `--gpg-home` the keyring's folder. Signing runs the gpg binary
 * as the reference does; verification reads the keys out of the keyring once and checks signatures
 * without it (crypto/gpg/).
 */
export interface GpgFlags {
  /** `--gpg` alone is `true` (gpg's default key); else the keyid, or keyids where several are taken. */
  gpg?: string | string[] | boolean;
  gpgHome?: string;
}

export const GPG_HOME_HELP = "the GnuPG home directory the --gpg keys are in (default: gpg's own, GNUPGHOME or ~/.gnupg)";

/** `-g, --gpg [keyid]` and `--gpg-home DIR`, as in-toto-run and in-toto-record take them. */
export function addGpgSigningOption(command: Command): Command {
  return command
    .option('-g, --gpg [keyid]', "sign with an OpenPGP key of the gpg keyring (gpg's default key without a keyid), as in-toto-run --gpg")
    .option('--gpg-home <dir>', GPG_HOME_HELP);
}

/** The keyids `--gpg` gave (none for a bare `--gpg`). */
export function gpgKeyids(flags: GpgFlags): string[] {
  if (flags.gpg === undefined || flags.gpg === true || flags.gpg === false) return [];
  return typeof flags.gpg === 'string' ? [flags.gpg] : flags.gpg;
}

/**
 * `--gpg KEYID FILE`: commander's variadic `--gpg` takes FILE too. A keyid is hex and a file's name rarely is,
 * so a last value that is not hex is taken off the keyids (a bare `--gpg` when none is left) and returned.
 */
export function takeGpgTrailingFile(flags: GpgFlags): string | undefined {
  const ids = gpgKeyids(flags);
  const last = ids.at(-1);
  if (last === undefined || GPG_KEYID.test(last)) return undefined;
  const rest = ids.slice(0, -1);
  flags.gpg = rest.length > 0 ? rest : true;
  return last;
}

/** The keys `--gpg` signs with: its keyids, or gpg's default key (undefined) for a bare `--gpg`; none without it. */
export function gpgSigningKeyids(flags: GpgFlags): (string | undefined)[] {
  if (flags.gpg === undefined) return [];
  const ids = gpgKeyids(flags);
  return ids.length > 0 ? ids : [undefined];
}

function gpgOptions(flags: GpgFlags, ctx: CliContext): { homedir?: string; env: NodeJS.ProcessEnv } {
  return { ...(flags.gpgHome !== undefined ? { homedir: resolve(ctx.io.cwd, flags.gpgHome) } : {}), env: ctx.io.env };
}

/** A signer for `--gpg [KEYID]`: gpg signs, once now to learn which key it signs with. */
export async function gpgSigner(keyid: string | undefined, flags: GpgFlags, ctx: CliContext): Promise<Signer> {
  const { GpgSigner } = await import('../crypto/gpg/gpg-binary.js');
  return GpgSigner.open(keyid, gpgOptions(flags, ctx));
}

/** The public keys of `keyids` from the keyring, as the reference exports them (export_pubkey); notes about subkeys left out are warned. */
export async function gpgPublicKeys(keyids: readonly string[], flags: GpgFlags, ctx: CliContext, quiet = false): Promise<PublicKey[]> {
  const [{ exportGpgKey }, { GpgPublicKey }] = await Promise.all([
    import('../crypto/gpg/gpg-binary.js'),
    import('../crypto/gpg/public-key.js'),
  ]);
  return keyids.map((keyid) => {
    const exported = exportGpgKey(keyid, gpgOptions(flags, ctx));
    if (!quiet) for (const note of exported.notes) ctx.warn(`OpenPGP key ${keyid}: ${note}`);
    return GpgPublicKey.fromGpgDict(exported.dict, `OpenPGP key ${keyid}`);
  });
}

/** --gpg-home without --gpg means nothing: say so rather than ignore it. `command` prefixes the message ('' for none). */
export function checkGpgHome(flags: GpgFlags, command: string): void {
  if (flags.gpgHome !== undefined && flags.gpg === undefined) {
    throw new EvidentError('BAD_USAGE', `${command === '' ? '' : `${command}: `}--gpg-home is the keyring of --gpg keys: it needs --gpg`);
  }
}
