import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { KeyPassword } from '../crypto/key-files.js';
import type { PrivateKey } from '../crypto/keys.js';
import { EvidentError, isEvidentError } from '../errors.js';
import { asGiven, type CliContext } from './context.js';
import { readHidden } from './hidden-input.js';

/** The environment variable holding a key's password, for CI systems that hand secrets over that way. */
export const PASSWORD_ENV = 'EVIDENT_KEY_PASSWORD';

/** The flags of every command that reads (or, keygen, writes) an encrypted private key. */
export interface PasswordFlags {
  /** A string given on the command line, or `true` for a bare `-P`: ask on the terminal, as in-toto-run -P. */
  password?: string | boolean;
  passwordFile?: string;
  /** `-p, --prompt` of sign and keygen, as in-toto-sign and in-toto-keygen spell it. */
  prompt?: boolean;
}

/**
 * Adds `-P, --password [password]` (the value optional, as in the reference: a bare -P prompts, and a flag
 * after it is never taken for the password), `--password-file FILE` and, where the reference has it
 * (in-toto-sign, in-toto-keygen), `-p, --prompt`.
 */
export function addPasswordOptions(command: Command, options: { purpose: 'decrypt' | 'encrypt'; promptFlag?: boolean }): Command {
  const what = options.purpose === 'encrypt' ? 'encrypt the private key with this password (PEM only)' : "the key's password";
  command
    .option(
      '-P, --password [password]',
      `${what}; -P alone asks for it on the terminal. On the command line it shows in ps and shell history: prefer -P, --password-file or ${PASSWORD_ENV}`,
    )
    .option('--password-file <file>', `read the password from this file (one trailing newline is dropped); or set ${PASSWORD_ENV}`);
  if (options.promptFlag) command.addOption(new Option('-p, --prompt', 'ask for the password on the terminal (same as -P alone)'));
  return command;
}

/** Where the password of the keys a command reads comes from, checked before any key is read. */
export interface KeyPasswords {
  /** What to give loadPrivateKey for the key file `given` (named as the user wrote it, for the prompt). */
  forKey(given: string): KeyPassword;
  /** Where a given password came from, to say so when it is wrong. */
  readonly from?: string;
}

type Source = { kind: 'value'; value: string; from: string } | { kind: 'prompt' } | { kind: 'none' };

/**
 * The password for reading encrypted keys: `--password VALUE`, `--password-file`, `-P`/`--prompt` (a
 * terminal is required), `EVIDENT_KEY_PASSWORD`, in that order; with none of them, a terminal is asked
 * when a key turns out to be encrypted, and elsewhere the error says how to give it.
 */
export async function keyPasswords(flags: PasswordFlags, ctx: CliContext): Promise<KeyPasswords> {
  const source = await passwordSource(flags, ctx, { promptWhenNeeded: true });
  if (source.kind === 'value') return { forKey: () => source.value, from: source.from };
  if (source.kind === 'prompt') return { forKey: (given) => () => prompt(ctx, `Password for ${given}: `) };
  return {
    forKey: () => async () => {
      throw new EvidentError(
        'BAD_KEY',
        `this key is encrypted: give its password with --password-file FILE or ${PASSWORD_ENV} (on a terminal, -P asks for it)`,
      );
    },
  };
}

/** Loads the private key file `given` (relative to the working folder), asking for its password as `passwords` says. */
export async function loadSigningKey(ctx: CliContext, given: string, passwords: KeyPasswords): Promise<PrivateKey> {
  try {
    // the key code is loaded here, not by every signing command's `--help`
    const { loadPrivateKey } = await import('../crypto/key-files.js');
    return await asGiven(loadPrivateKey(resolve(ctx.io.cwd, given), { password: passwords.forKey(given) }), given);
  } catch (e) {
    // a password from the environment may have been set for another key, or long ago: say where it came from
    if (isEvidentError(e) && e.code === 'BAD_KEY' && passwords.from !== undefined && e.message.startsWith('wrong password')) {
      throw new EvidentError('BAD_KEY', `${e.message} (the password from ${passwords.from})`, { file: e.file, cause: e });
    }
    throw e;
  }
}

/**
 * The password to encrypt a new key with (keygen): the same sources, but nothing asked unless -P or
 * --prompt says so (a key is written unencrypted by default), and what is typed is asked twice.
 */
export async function newKeyPassword(flags: PasswordFlags, ctx: CliContext): Promise<{ value: string; from: string } | undefined> {
  const source = await passwordSource(flags, ctx, { promptWhenNeeded: false });
  if (source.kind === 'value') return { value: source.value, from: source.from };
  if (source.kind === 'none') return undefined;
  const first = await prompt(ctx, 'Password for the new key: ');
  if (first === '') throw new EvidentError('BAD_USAGE', 'no password entered (without -P the key is written unencrypted)');
  if ((await prompt(ctx, 'The same password again: ')) !== first) throw new EvidentError('BAD_USAGE', 'the two passwords differ');
  return { value: first, from: 'the prompt' };
}

async function passwordSource(flags: PasswordFlags, ctx: CliContext, options: { promptWhenNeeded: boolean }): Promise<Source> {
  const value = typeof flags.password === 'string' ? flags.password : undefined;
  // `-P-x` or `--password=-x`: a flag given as the password by mistake, or a password that would read as one
  if (value?.startsWith('-')) {
    throw new EvidentError(
      'BAD_USAGE',
      `-P/--password was given a value starting with '-', which looks like a flag: -P alone asks for the password; give one starting with '-' with --password-file or ${PASSWORD_ENV}`,
    );
  }
  const asked = flags.password === true || flags.prompt === true;
  const ways = [value !== undefined && '--password', flags.passwordFile !== undefined && '--password-file', asked && '-P (prompt)'];
  const given = ways.filter((w): w is string => w !== false);
  if (given.length > 1) throw new EvidentError('BAD_USAGE', `give the key's password one way, not with ${given.join(' and ')}`);
  if (value !== undefined) return { kind: 'value', value, from: '--password' };
  if (flags.passwordFile !== undefined) {
    return {
      kind: 'value',
      value: await readPasswordFile(resolve(ctx.io.cwd, flags.passwordFile), flags.passwordFile),
      from: flags.passwordFile,
    };
  }
  if (asked) {
    if (ctx.io.terminal === undefined) {
      throw new EvidentError(
        'BAD_USAGE',
        `-P asks for the password on the terminal, but stdin is not one: give it with --password-file FILE or ${PASSWORD_ENV}`,
      );
    }
    return { kind: 'prompt' };
  }
  const env = ctx.io.env[PASSWORD_ENV];
  if (env !== undefined && env !== '') return { kind: 'value', value: env, from: PASSWORD_ENV };
  return options.promptWhenNeeded && ctx.io.terminal !== undefined ? { kind: 'prompt' } : { kind: 'none' };
}

function prompt(ctx: CliContext, text: string): Promise<string> {
  return readHidden(ctx.io.terminal!.stdin(), ctx.io.stderr, text);
}

/** Secrets files are small; this is plenty, and bounds what a wrong path (a log, a device) makes us read. */
const MAX_PASSWORD_FILE_BYTES = 64 * 1024;

/**
 * The password in `path`: the whole file but one trailing newline (`echo secret > file` writes one). A pipe
 * is read too, so `--password-file <(vault read …)` works; a regular file, a mounted secret, is the usual case.
 */
async function readPasswordFile(path: string, given: string): Promise<string> {
  const info = await asGiven(stat(path), given);
  if (info.isDirectory()) throw new EvidentError('BAD_INPUT', 'is a directory, not a password file', { file: given });
  const bytes = await asGiven(readAtMost(path, MAX_PASSWORD_FILE_BYTES), given);
  if (bytes === undefined)
    throw new EvidentError('BAD_INPUT', `a password file is at most ${MAX_PASSWORD_FILE_BYTES} bytes`, { file: given });
  const text = bytes.toString('utf8').replace(/\r?\n$/, '');
  if (text === '') throw new EvidentError('BAD_INPUT', 'the password file is empty', { file: given });
  return text;
}

/** The file's bytes, or undefined when it holds more than `max`. */
async function readAtMost(path: string, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
