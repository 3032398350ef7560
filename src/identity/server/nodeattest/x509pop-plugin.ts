import { X509POP_SELECTORS } from '../../common/selectors.js';
import type { NodeAttestorPlugin } from './types.js';

/**
 * The catalog entry: `node_attestors: {x509pop: {ca_bundle: FILE}}`, or `--x509pop-ca-bundle FILE`. Apart
 * from the attestor so that `evident server run --help`, which lists every plugin's settings, does not load
 * the certificate machinery the attestor needs.
 */
export const x509popPlugin: NodeAttestorPlugin = {
  selectors: X509POP_SELECTORS,
  settings: [
    {
      name: 'ca_bundle',
      type: 'path',
      arg: 'FILE',
      required: true,
      doc: 'CA certificates (PEM) that node certificates chain to (enables x509pop)',
    },
  ],
  async build(settings, ctx) {
    const { X509popAttestor } = await import('./x509pop.js');
    return X509popAttestor.fromBundleFile(String(settings.ca_bundle), ctx.clock);
  },
};
