/**
 * The one identity server of in-process tests: a real IdentityServer in this process, with real TLS on a
 * real TCP port (127.0.0.1) and its admin API on a real Unix socket in its data dir. Tests that need the
 * `evident server run` process itself spawn it (test/identity/server/e2e.test.ts, test/identity/agent/e2e.test.ts).
 */
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentApiClient, type X509Svid } from '../../src/identity/proto/index.js';
import { adminRequest, IdentityServer, resolveServerConfig, type Clock, type Settings } from '../../src/identity/server/index.js';

/** The trust domain of every in-process test server. */
export const TD = 'example.org';

export interface TestServerOptions {
  /** Server settings as flags would give them (`x509_svid_ttl`, `x509pop_ca_bundle`, `datastore`, …). */
  settings?: Settings;
  clock?: Clock;
  /**
   * How often its housekeeping (CA rotation, pruning) runs: 500 ms unless given, so a rotation a test sets up
   * happens within the test (the server's own default is 10 s).
   */
  tickMs?: number;
  /** Its data dir, kept on close so a restart finds its state; a fresh temp dir, removed on close, when not given. */
  dataDir?: string;
  /** Its TCP port, e.g. the one of the server it restarts; any free one when not given. */
  port?: number;
}

export interface TestServer {
  server: IdentityServer;
  dataDir: string;
  /** `127.0.0.1:PORT` of the agent API. */
  address: string;
  port: number;
  adminSocket: string;
  /** The CA certificates of its trust bundle (DER), as agents are given them. */
  roots(): Buffer[];
  /** An admin API call; resolves with the response body. */
  admin(method: string, path: string, body?: unknown): Promise<unknown>;
  joinToken(body?: Record<string, unknown>): Promise<string>;
  /** A registration entry for `spiffe://TD<spiffePath>`. */
  createEntry(
    spiffePath: string,
    parentId: string,
    selectors: string[],
    extra?: Record<string, unknown>,
  ): Promise<{ id: string; spiffe_id: string }>;
  /** An agent API client that has not attested (TLS only). */
  anonymous(): AgentApiClient;
  /** An agent API client calling with an agent SVID (mTLS). */
  as(svid: X509Svid, key: KeyObject): AgentApiClient;
  /** Closes its clients, stops it, and removes its data dir if this helper made it. */
  close(): Promise<void>;
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

export async function startServer(o: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'evident-srv-')));
  const bind = `127.0.0.1:${o.port ?? 0}`;
  // its own admin socket: the default (/tmp/evident-server/private/admin.sock) is one per machine
  const flags = { trust_domain: TD, data_dir: dataDir, bind, admin_socket: join(dataDir, 'admin.sock'), ...o.settings };
  const config = resolveServerConfig({ flags, file: {}, env: {} }, dataDir);
  const server = await IdentityServer.start({ config, tickMs: o.tickMs ?? 500, ...(o.clock ? { clock: o.clock } : {}) });
  const address = server.agentApiAddress;
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> =>
    (await adminRequest(config.adminSocket, method, path, body)).body;
  const clients: AgentApiClient[] = [];
  const client = (identity?: { certChain: Buffer[]; privateKeyPem: string }): AgentApiClient => {
    const c = new AgentApiClient({
      address,
      trustDomain: TD,
      trustBundle: server.ca.bundle().x509Authorities,
      ...(identity ? { identity } : {}),
    });
    clients.push(c);
    return c;
  };
  return {
    server,
    dataDir,
    address,
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    adminSocket: config.adminSocket,
    roots: () => server.ca.bundle().x509Authorities,
    admin,
    joinToken: async (body = {}) => ((await admin('POST', '/v1/join-tokens', body)) as { token: string }).token,
    createEntry: async (spiffePath, parentId, selectors, extra = {}) =>
      (await admin('POST', '/v1/entries', { spiffe_id: `spiffe://${TD}${spiffePath}`, parent_id: parentId, selectors, ...extra })) as {
        id: string;
        spiffe_id: string;
      },
    anonymous: () => client(),
    as: (svid, key) => client({ certChain: svid.cert_chain, privateKeyPem: key.export({ format: 'pem', type: 'pkcs8' }) as string }),
    close: async () => {
      for (const c of clients) c.close();
      await server.stop(1000);
      if (o.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
