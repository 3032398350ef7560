/**
 * The server half of bench/identity-server.ts and bench/tsa.ts, in its own process so the benchmark's
 * client does not take its CPU: starts an identity server (with its TSA on 127.0.0.1 when the third
 * argument is `tsa`), prints one JSON line with its addresses, runs until SIGTERM.
 */
import { IdentityServer, resolveServerConfig } from '../src/identity/server/index.js';

const [td, dir, withTsa] = process.argv.slice(2) as [string, string, string | undefined];
const config = resolveServerConfig(
  {
    flags: {
      trust_domain: td,
      data_dir: dir,
      bind: '127.0.0.1:0',
      admin_socket: `${dir}/admin.sock`,
      ...(withTsa === 'tsa' ? { tsa_bind: '127.0.0.1:0' } : {}),
    },
    file: {},
    env: {},
  },
  dir,
);
const server = await IdentityServer.start({ config });
process.stdout.write(
  `${JSON.stringify({ address: server.agentApiAddress, tsaAddress: server.tsaAddress, adminSocket: config.adminSocket, roots: server.ca.bundle().x509Authorities.map((d) => d.toString('base64')) })}\n`,
);
await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
await server.stop(1000);
