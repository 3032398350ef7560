import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityServer, resolveServerConfig, type Clock, type Settings } from '../../../src/identity/server/index.js';
import { AgentApiClient, type X509Svid } from '../../../src/identity/proto/index.js';
import { TD } from './helpers.js';

export interface Running {
  dir: string;
  server: IdentityServer;
  /** A client that has not attested (TLS only). */
  anonymous(): AgentApiClient;
  /** A client calling with an agent SVID. */
  as(svid: X509Svid, key: KeyObject): AgentApiClient;
  close(): Promise<void>;
}

/**
 * A real server in this process: real TLS on a real TCP port, admin API on a real Unix socket. `tickMs`
 * is how often its housekeeping runs (the server's default when not given).
 */
export async function startServer(settings: Settings = {}, clock?: Clock, tickMs?: number): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-srv-'));
  const config = resolveServerConfig({ flags: { trust_domain: TD, data_dir: dir, bind: '127.0.0.1:0', ...settings }, file: {}, env: {} }, dir);
  const server = await IdentityServer.start({ config, ...(clock ? { clock } : {}), ...(tickMs !== undefined ? { tickMs } : {}) });
  const clients: AgentApiClient[] = [];
  const track = (c: AgentApiClient) => (clients.push(c), c);
  return {
    dir, server,
    anonymous: () => track(new AgentApiClient({ address: server.agentApiAddress, trustDomain: TD, trustBundle: server.ca.bundle().x509Authorities })),
    as: (svid, key) => track(new AgentApiClient({
      address: server.agentApiAddress, trustDomain: TD, trustBundle: server.ca.bundle().x509Authorities,
      identity: { certChain: svid.cert_chain, privateKeyPem: key.export({ format: 'pem', type: 'pkcs8' }) as string },
    })),
    close: async () => {
      for (const c of clients) c.close();
      await server.stop(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function newKey(): { privateKey: KeyObject; spki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, spki: publicKey.export({ format: 'der', type: 'spki' }) };
}
