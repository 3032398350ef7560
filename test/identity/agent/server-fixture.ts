// An in-process identity server (the server helper's IdentityServer) for the agent's tests.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { adminRequest, IdentityServer, resolveServerConfig, type Settings } from '../../../src/identity/server/index.js';
import { pemCertificates } from '../../../src/identity/agent/trust-bundle.js';

export const TD = 'agent-test.example';

export interface ServerFixture {
  srv: IdentityServer;
  address: string;
  port: number;
  adminSocket: string;
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
  roots(): Promise<Buffer[]>;
  joinToken(): Promise<string>;
  createEntry(spiffePath: string, parentId: string, selectors: string[], extra?: Record<string, unknown>): Promise<{ id: string; spiffe_id: string }>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startServer(dataDir: string, port?: number, extra: Settings = {}): Promise<ServerFixture> {
  const p = port ?? (await freePort());
  const config = resolveServerConfig({ flags: { trust_domain: TD, data_dir: dataDir, bind: `127.0.0.1:${p}`, ...extra }, file: {}, env: {} }, dataDir);
  const srv = await IdentityServer.start({ config, tickMs: 500 });
  const adminSocket = join(dataDir, 'admin.sock');
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => (await adminRequest(adminSocket, method, path, body)).body;
  return {
    srv,
    address: `127.0.0.1:${p}`,
    port: p,
    adminSocket,
    admin,
    roots: async () => pemCertificates((await admin('GET', '/v1/bundle?format=pem')) as string),
    joinToken: async () => ((await admin('POST', '/v1/join-tokens', { ttl: 600 })) as { token: string }).token,
    createEntry: async (spiffePath, parentId, selectors, more = {}) =>
      (await admin('POST', '/v1/entries', { spiffe_id: `spiffe://${TD}${spiffePath}`, parent_id: parentId, selectors, ...more })) as { id: string; spiffe_id: string },
    stop: () => srv.stop(),
  };
}
