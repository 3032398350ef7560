import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import { checkTimestampServers, type SignatureTimestamping } from '../intoto/runlib/timestamp-signatures.js';
import { timestampServerUrl } from '../time/server-url.js';
import type { CliContext } from './context.js';

/** `--timestamp-server` and `--timestamp-optional`, on every command that signs a link or layout. */
export interface TimestampFlags {
  timestampServer?: string[];
  timestampOptional?: boolean;
}

/**
 * Adds the flags. `<url...>` takes several URLs at once, as Witness's `--timestamp-servers` does, and
 * the flag may be repeated; each TSA adds one token to each new signature.
 */
export function addTimestampOptions(command: Command, written: string): Command {
  return command
    .option(
      '--timestamp-server <url...>',
      `time-stamp each new signature with a token from this RFC 3161 time-stamping authority (an http(s) URL; several, or the flag repeated, give a token each); a TSA that cannot be reached or refuses is an error (exit 3) and no ${written} is written`,
    )
    .option('--timestamp-optional', `a TSA that fails is a warning instead: the ${written} is written with the tokens that were obtained`);
}

/** What the flags ask for, checked (exit 2 for a URL that is not http(s), or too many), or undefined when no TSA is named. */
export function signatureTimestamping(flags: TimestampFlags, ctx: CliContext, quiet = false): SignatureTimestamping | undefined {
  const servers = flags.timestampServer ?? [];
  if (servers.length === 0) {
    if (flags.timestampOptional)
      throw new EvidentError('BAD_USAGE', '--timestamp-optional says what a failing TSA means: it needs --timestamp-server');
    return undefined;
  }
  checkTimestampServers(servers);
  return {
    servers,
    optional: flags.timestampOptional ?? false,
    onWarning: quiet ? undefined : (message) => ctx.warn(message),
  };
}

/**
 * For commands whose file comes last (`sign`, `layout create`): `--timestamp-server URL FILE` gives FILE
 * to the variadic flag, as `-k KEY FILE` does to -k. A last value that is not an http(s) URL is taken
 * back as the file when none was given.
 */
export function takeTrailingFile(flags: TimestampFlags): string | undefined {
  const servers = flags.timestampServer;
  const last = servers?.[servers.length - 1];
  if (servers === undefined || last === undefined || isServerUrl(last)) return undefined;
  servers.pop();
  return last;
}

function isServerUrl(value: string): boolean {
  try {
    timestampServerUrl(value);
    return true;
  } catch {
    return false;
  }
}
