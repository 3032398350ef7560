import { TPM_SELECTORS } from '../../common/selectors.js';
import type { NodeAttestorPlugin } from './types.js';

/**
 * The catalog entry: `--tpm` (or `node_attestors: {tpm: {…}}`), with `--tpm-ek-ca-bundle FILE` and
 * `--tpm-allowed-hashes FILE`, each optional, each turning TPM attestation on by itself. Apart from the
 * attestor so that `evident server run --help` does not load the TPM and certificate code.
 */
export const tpmPlugin: NodeAttestorPlugin = {
  selectors: TPM_SELECTORS,
  settings: [
    {
      name: 'enabled',
      flatName: 'tpm',
      type: 'boolean',
      doc: "accept agents attesting with their machine's TPM 2.0 (agent run --tpm); the agent ID is the EK's SHA-256",
    },
    {
      name: 'ek_ca_bundle',
      type: 'path',
      arg: 'FILE',
      doc: "TPM manufacturers' CA certificates (PEM): an agent's EK certificate must chain to one of them",
    },
    {
      name: 'allowed_hashes',
      type: 'path',
      arg: 'FILE',
      doc: 'only the TPMs whose EK SHA-256 (hex, one per line) is in this file may attest; read again when it changes',
    },
  ],
  async build(settings, ctx) {
    const { TpmAttestor } = await import('./tpm.js');
    return TpmAttestor.fromFiles({
      clock: ctx.clock,
      ...(settings.ek_ca_bundle !== undefined ? { ekCaBundle: String(settings.ek_ca_bundle) } : {}),
      ...(settings.allowed_hashes !== undefined ? { allowList: String(settings.allowed_hashes) } : {}),
    });
  },
};
