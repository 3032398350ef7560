import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import type { KeyType } from '../crypto/key-dict.js';
import type { CliContext } from './context.js';
import { addPasswordOptions, newKeyPassword, type PasswordFlags } from './key-password.js';

interface KeygenOptions extends PasswordFlags {
  type: string;
  curve?: string;
  bits?: string;
  format: string;
  json?: boolean;
}

/** `evident keygen [-t ed25519|ecdsa|rsa] NAME` → NAME (private, 0600) and NAME.pub. */
export function registerKeygen(program: Command, ctx: CliContext): void {
  const command = program
    .command('keygen')
    .description('generate a signing key pair: NAME (private, mode 0600) and NAME.pub')
    .argument('<name>', 'path of the private key file; the public key goes to NAME.pub')
    .option('-t, --type <type>', 'ed25519, ecdsa or rsa', 'ed25519')
    .option('--curve <curve>', 'ECDSA curve: P-256, P-384 or P-521', 'P-256')
    .option('-b, --bits <bits>', 'RSA modulus size (at least 2048)', '3072')
    .option('--format <format>', 'pem (PKCS#8 / SPKI) or securesystemslib (the JSON files in-toto-keygen writes)', 'pem')
    .option('--json', 'print the keyid and files as JSON');
  addPasswordOptions(command, { purpose: 'encrypt', promptFlag: true }).action(
    ctx.action(async (name: string, opts: KeygenOptions) => {
      const type = opts.type as KeyType;
      if (!['ed25519', 'ecdsa', 'rsa'].includes(type))
        throw new EvidentError('BAD_USAGE', `keygen: unknown key type '${opts.type}' (use ed25519, ecdsa or rsa)`);
      const curve = opts.curve;
      if (curve !== 'P-256' && curve !== 'P-384' && curve !== 'P-521')
        throw new EvidentError('BAD_USAGE', `keygen: unknown curve '${curve}' (use P-256, P-384 or P-521)`);
      if (opts.format !== 'pem' && opts.format !== 'securesystemslib')
        throw new EvidentError('BAD_USAGE', `keygen: unknown format '${opts.format}'`);
      const bits = Number(opts.bits);
      if (!Number.isInteger(bits)) throw new EvidentError('BAD_USAGE', `keygen: --bits must be an integer`);
      const password = await newKeyPassword(opts, ctx);
      if (password !== undefined && opts.format === 'securesystemslib') {
        throw new EvidentError(
          'BAD_USAGE',
          `keygen: securesystemslib JSON keys are written unencrypted, and a password was given (${password.from}): use --format pem`,
        );
      }
      const { generatePrivateKey, saveKeyPair } = await import('../crypto/key-files.js');
      const key = generatePrivateKey(type, { curve, bits });
      // relative to the folder the CLI runs in (ctx.io.cwd), as every other file a command writes
      const path = resolve(ctx.io.cwd, name);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await saveKeyPair(key, path, { format: opts.format, password: password?.value });
      const encrypted = password !== undefined;
      if (opts.json) ctx.out(JSON.stringify({ keyid: key.keyid, scheme: key.scheme, private: name, public: `${name}.pub`, encrypted }));
      else
        ctx.out(`${key.scheme} key ${key.keyid}: ${name}${encrypted ? ` (encrypted, password from ${password.from})` : ''}, ${name}.pub`);
      return 0;
    }),
  );
}
