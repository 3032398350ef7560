import { Catalog } from '../common/catalog.js';
import { joinTokenPlugin } from './nodeattest/join-token.js';
import { tpmPlugin } from './nodeattest/tpm-plugin.js';
import type { NodeAttestor, NodeAttestorContext } from './nodeattest/types.js';
import { x509popPlugin } from './nodeattest/x509pop-plugin.js';

/**
 * The server's plugins by the names configuration uses (`--node-attestor NAME`, `node_attestors:` in the
 * config file). A new node attestor is its own file under nodeattest/, exporting its entry, and one line here.
 */
export const nodeAttestorCatalog = new Catalog<NodeAttestorContext, NodeAttestor>('node attestor')
  .register('join_token', joinTokenPlugin)
  .register('x509pop', x509popPlugin)
  .register('tpm', tpmPlugin);
