import { Option } from 'commander';
import type { CliContext } from './context.js';

/**
 * The reference's `-t TYPE…` of in-toto-verify (--key-types) and in-toto-sign (--key-type): there the
 * key files' format depends on it; evident reads each key's type from its file. Accepted, so commands
 * copied from in-toto scripts run, and said to be unneeded.
 */
export function keyTypesOption(long: '--key-types' | '--key-type'): Option {
  return new Option(`-t, ${long} <types...>`, 'accepted as in-toto does, not needed: each key file says its type').choices([
    'rsa',
    'ed25519',
    'ecdsa',
  ]);
}

export function noteKeyTypes(ctx: CliContext, given: string[] | undefined, quiet: boolean | undefined): void {
  if (given !== undefined && !quiet)
    ctx.err('evident: note: -t is not needed and is ignored: evident reads each key type from its key file');
}
