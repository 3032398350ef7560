import { Catalog, type Plugin } from '../common/catalog.js';
import type { NodeAttestorClient } from './attestor-client.js';
import { unixPlugin } from './workloadattest/unix.js';
import type { WorkloadAttestor } from './workloadattest/types.js';

/**
 * The clients' code (X.509 parsing) is loaded when one is built, not with the catalog: the agent's
 * settings are made from this catalog, and `evident agent run --help` lists them.
 */
const attestorClients = () => import('./attestor-client.js');

/** A node attestor client's catalog entry: its settings and how to build it. */
export type NodeAttestorClientPlugin = Plugin<undefined, NodeAttestorClient>;

/** `--join-token TOKEN` (`node_attestor: {join_token: {token: …}}`): single use, so the agent cannot attest twice with it. */
const joinTokenClientPlugin: NodeAttestorClientPlugin = {
  settings: [
    { name: 'token', flatName: 'join_token', type: 'string', arg: 'TOKEN', required: true, doc: 'attest with this single-use join token' },
  ],
  build: async (settings) => new (await attestorClients()).JoinTokenAttestorClient(String(settings.token)),
};

/** `--x509pop-cert FILE --x509pop-key FILE`: the node certificate (PEM, then its chain) and its key. */
const x509popClientPlugin: NodeAttestorClientPlugin = {
  settings: [
    { name: 'cert', type: 'path', arg: 'FILE', required: true, doc: 'attest with x509pop: the node certificate (PEM, then its chain)' },
    { name: 'key', type: 'path', arg: 'FILE', required: true, doc: 'the node certificate private key (PEM)' },
  ],
  build: async (settings) => (await attestorClients()).X509popAttestorClient.load(String(settings.cert), String(settings.key)),
};

/**
 * `--tpm [--tpm-tcti TCTI] [--tpm-ek rsa|ecc]`: the machine's TPM 2.0, through the kernel's resource manager
 * or a simulator. Loaded when built: `agent run --help` must not load the TPM code.
 */
const tpmClientPlugin: NodeAttestorClientPlugin = {
  settings: [
    { name: 'enabled', flatName: 'tpm', type: 'boolean', doc: "attest with this machine's TPM 2.0: the agent ID is its EK's SHA-256" },
    {
      name: 'tcti',
      type: 'string',
      arg: 'TCTI',
      default: 'device:/dev/tpmrm0',
      doc: 'the TPM: device:PATH (a character device) or swtpm:host=HOST,port=PORT (a simulator)',
    },
    {
      name: 'ek',
      type: 'string',
      arg: 'TYPE',
      default: 'rsa',
      doc: 'the endorsement key: rsa (RSA 2048, where EK certificates usually are) or ecc (P-256, faster); part of the ID',
    },
  ],
  build: async (settings) => {
    const { TpmAttestorClient } = await import('./tpm-attestor-client.js');
    return new TpmAttestorClient({ tcti: String(settings.tcti), ek: String(settings.ek) as 'rsa' | 'ecc' });
  },
};

/**
 * The agent's plugins by the names configuration uses. A new attestor is its own file exporting its
 * catalog entry (as workloadattest/unix.ts does), and one line here.
 */
export const nodeAttestorClientCatalog = new Catalog<undefined, NodeAttestorClient>('node attestor')
  .register('join_token', joinTokenClientPlugin)
  .register('x509pop', x509popClientPlugin)
  .register('tpm', tpmClientPlugin);

/** The workload attestors the agent runs unless told otherwise. */
export const DEFAULT_WORKLOAD_ATTESTORS: readonly string[] = ['unix'];

export const workloadAttestorCatalog = new Catalog<undefined, WorkloadAttestor>('workload attestor').register('unix', unixPlugin);
