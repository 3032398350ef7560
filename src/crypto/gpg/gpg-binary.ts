import { spawnSync } from 'node:child_process';
import { EvidentError } from '../../errors.js';
import type { Signer } from '../signer.js';
import { exportedKeyDict, type ExportedKey } from './export.js';
import { GPG_KEYID } from './key-dict.js';
import { GpgPublicKey } from './public-key.js';
import { readSignaturePacket, type GpgSignature } from './signature.js';

/**
 * What evident asks of the `gpg` binary, as the reference asks it (securesystemslib.gpg.functions):
 * `gpg --export KEYID` for a public key and `gpg --detach-sign --digest-algo SHA256 [--local-user KEYID]`
 * for a signature, each with `--homedir DIR` when given. Verification never runs it: a signature is
 * checked from the layout's key dict alone (signature.ts).
 */

export interface GpgOptions {
  /** The GnuPG home directory (`--gpg-home`); gpg's default (GNUPGHOME, ~/.gnupg) without it. */
  readonly homedir?: string;
  /** The environment gpg runs in: GNUPG names the binary (as for the reference), else `gpg`. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The reference's export_pubkey: the key dict of `keyid` from the keyring.
 *
 * @throws EvidentError BAD_USAGE for a keyid that is not hex; BAD_KEY when the keyring has no such key; ENVIRONMENT when gpg fails
 */
export function exportGpgKey(keyid: string, options: GpgOptions = {}): ExportedKey {
  if (!GPG_KEYID.test(keyid))
    throw new EvidentError('BAD_USAGE', `--gpg: '${keyid}' is not an OpenPGP keyid (hex, e.g. a key's fingerprint)`);
  const out = runGpg([...homeArgs(options), '--export', keyid], undefined, options, `gpg --export ${keyid}`);
  if (out.length === 0)
    throw new EvidentError('BAD_KEY', `no OpenPGP key ${keyid} in the keyring${options.homedir ? ` in ${options.homedir}` : ''}`);
  return exportedKeyDict(out, keyid);
}

/**
 * The reference's create_signature: a detached signature by `keyid` (gpg's default key without it) over
 * `content`, as the metablock entry. gpg chooses the key that signs, a signing subkey of `keyid` if it has one.
 */
export function gpgDetachSign(content: Uint8Array, keyid: string | undefined, options: GpgOptions = {}): GpgSignature {
  if (keyid !== undefined && !GPG_KEYID.test(keyid)) {
    throw new EvidentError('BAD_USAGE', `--gpg: '${keyid}' is not an OpenPGP keyid (hex, e.g. a key's fingerprint)`);
  }
  const args = ['--detach-sign', '--digest-algo', 'SHA256', ...(keyid !== undefined ? ['--local-user', keyid] : []), ...homeArgs(options)];
  const out = runGpg(args, content, options, 'gpg --detach-sign');
  let parsed;
  try {
    parsed = readSignaturePacket(out);
  } catch (e) {
    throw new EvidentError('ENVIRONMENT', `gpg --detach-sign wrote no signature evident can read: ${(e as Error).message}`);
  }
  // what the reference's parse_signature_packet insists on, by default
  if (parsed.type !== 0 || parsed.hashAlgorithm !== 8) {
    throw new EvidentError('ENVIRONMENT', 'gpg --detach-sign made a signature that is not a binary-document signature with SHA-256');
  }
  if (parsed.entry.keyid === '')
    throw new EvidentError('ENVIRONMENT', "gpg made a signature without its key's fingerprint (gpg 2.1 or later is needed)");
  return parsed.entry;
}

/**
 * Signs metablocks through gpg, as in-toto-run --gpg does. Opening it signs once to learn which key gpg
 * signs with (the link is named after it, and `record start` must know it before it signs) and exports
 * that key's public half.
 */
export class GpgSigner implements Signer {
  private constructor(
    readonly keyid: string,
    readonly publicKey: GpgPublicKey,
    private readonly askFor: string | undefined,
    private readonly options: GpgOptions,
  ) {}

  /** `keyid` as `--gpg KEYID` gives it, or undefined for gpg's default key. */
  static open(keyid: string | undefined, options: GpgOptions = {}): GpgSigner {
    const probe = gpgDetachSign(Buffer.alloc(0), keyid, options);
    const exported = exportGpgKey(probe.keyid, options);
    const publicKey = GpgPublicKey.fromGpgDict(exported.dict, `OpenPGP key ${probe.keyid}`);
    if (!publicKey.keyids.includes(probe.keyid)) {
      const why = exported.notes.find((n) => n.includes(probe.keyid)) ?? 'it is not bound to its primary key by one valid signature';
      throw new EvidentError(
        'BAD_KEY',
        `gpg signs with ${probe.keyid}, which cannot be a subkey of ${publicKey.keyid} in a layout: ${why}`,
      );
    }
    return new GpgSigner(probe.keyid, publicKey, keyid, options);
  }

  metablockSignature(data: Uint8Array): GpgSignature {
    const signature = gpgDetachSign(data, this.askFor, this.options);
    if (signature.keyid !== this.keyid) {
      throw new EvidentError('ENVIRONMENT', `gpg signed with ${signature.keyid}, not with ${this.keyid} as when it was opened`);
    }
    return signature;
  }

  sign(): string {
    throw onlyMetablocks();
  }

  signRaw(): Buffer {
    throw onlyMetablocks();
  }
}

function onlyMetablocks(): EvidentError {
  return new EvidentError('BAD_USAGE', 'an OpenPGP key (--gpg) signs in-toto metablocks only, as the reference does: not DSSE envelopes');
}

function homeArgs(options: GpgOptions): string[] {
  return options.homedir !== undefined ? ['--homedir', options.homedir] : [];
}

function runGpg(args: string[], input: Uint8Array | undefined, options: GpgOptions, what: string): Buffer {
  const env = options.env ?? process.env;
  const binary = env.GNUPG !== undefined && env.GNUPG !== '' ? env.GNUPG : 'gpg';
  const result = spawnSync(binary, args, { input: input ?? Buffer.alloc(0), env, maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new EvidentError(
      'ENVIRONMENT',
      missing ? `${binary} is not installed (OpenPGP keys need GnuPG 2.1 or later)` : `${what}: ${result.error.message}`,
    );
  }
  if (result.status !== 0) {
    const stderr = result.stderr.toString('utf8').trim().split('\n').slice(-3).join('; ');
    throw new EvidentError('ENVIRONMENT', `${what} failed (exit ${String(result.status)}): ${stderr}`);
  }
  return result.stdout;
}
