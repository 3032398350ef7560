import type { Command } from 'commander';
import type { Signer } from '../crypto/signer.js';
import type { Statement } from '../attestation/statement.js';
import type { CliContext } from './context.js';
import { addPasswordOptions, type PasswordFlags } from './key-password.js';
import { stepIdentity } from './step-options.js';
import { addTimestampOptions, signatureTimestamping, type TimestampFlags } from './timestamp-options.js';
import { WORKLOAD_API_SOCKET_HELP } from './workload-api-socket.js';

/** The signer of an attestation a command writes (`scan run --attest`, `sbom generate --attest`): as `evident run` signs a link. */
export interface AttestFlags extends PasswordFlags, TimestampFlags {
  key?: string;
  spiffeSocket?: string | boolean;
  spiffeId?: string;
  quiet?: boolean;
}

/** `-k KEY` or `--spiffe-socket [path]` (`--spiffe-id`), the key's password flags and `--timestamp-server`, as `evident run` has them. */
export function addAttestOptions(command: Command): Command {
  command
    .option('-k, --key <path>', 'with --attest: private key to sign the attestation (PEM or securesystemslib JSON)')
    .option('--spiffe-socket [path]', `with --attest: sign with the X509-SVID from the SPIFFE Workload API: ${WORKLOAD_API_SOCKET_HELP}`)
    .option('--spiffe-id <id>', 'which SVID to sign with, when the Workload API gives several');
  addPasswordOptions(command, { purpose: 'decrypt' });
  return addTimestampOptions(command, 'attestation');
}

/** The signer the flags name (exit 2 without one, or with a bad TSA address), asked before any work is done. */
export async function attestationSigner(flags: AttestFlags, ctx: CliContext): Promise<Signer> {
  signatureTimestamping(flags, ctx, true);
  return (await stepIdentity({ ...flags, stepName: '', format: 'link' }, ctx)).signer;
}

/** The Statement signed (and time-stamped, with --timestamp-server) into the text of a DSSE envelope. */
export async function signedAttestationText(statement: Statement, signer: Signer, flags: AttestFlags, ctx: CliContext): Promise<string> {
  const { signStatement, envelopeText } = await import('../attestation/sign-statement.js');
  const timestamps = signatureTimestamping(flags, ctx, flags.quiet);
  return envelopeText(await signStatement(statement, signer, { timestamps, consequence: 'no attestation written' }));
}
