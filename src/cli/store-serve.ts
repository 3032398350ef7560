import type { Command } from 'commander';
import { resolve } from 'node:path';
import { EvidentError } from '../errors.js';
import { DEFAULT_MAX_EVIDENCE_BYTES } from '../store/limits.js';
import { parseHostPort } from '../util/host-port.js';
import type { CliContext } from './context.js';
import { servedSvidSource } from './served-svid.js';
import { untilStopSignal } from './stop-signal.js';
import { WORKLOAD_API_SOCKET_HELP } from './workload-api-socket.js';

interface ServeFlags {
  dataDir?: string;
  bind: string;
  datastore?: string;
  tokenFile?: string;
  trustBundle?: string;
  tlsCert?: string;
  tlsKey?: string;
  spiffeSocket?: string | boolean;
  spiffeId?: string;
  spiffeTimeout: string;
  readsNeedToken?: boolean;
  maxEvidenceBytes?: string;
  layout?: string;
  layoutKey: string[];
}

/** `evident store serve`: the evidence store's server (docs/store.md), until SIGTERM or SIGINT. */
export function registerStoreServe(store: Command, ctx: CliContext): void {
  store
    .command('serve')
    .description('serve the evidence store over HTTP(S) until SIGTERM or SIGINT')
    .option('--data-dir <dir>', 'where the SQLite database lives (evidence.sqlite3)')
    .option('--bind <host:port>', 'the address to listen on', '127.0.0.1:8420')
    .option('--datastore <url>', 'sqlite (default, in --data-dir), sqlite:PATH, or a postgres:// URL several stores may share')
    .option('--token-file <file>', 'bearer tokens that may upload, one per line')
    .option('--trust-bundle <file>', 'CAs (PEM) whose X509-SVIDs may upload over mTLS (needs --tls-cert and --tls-key)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM, then its intermediates)')
    .option('--tls-key <file>', "the HTTPS certificate's private key (PEM)")
    .option(
      '--spiffe-socket [path]',
      `serve HTTPS with this workload's X509-SVID, renewed on every rotation; client X509-SVIDs chaining to its bundles may upload: ${WORKLOAD_API_SOCKET_HELP}`,
    )
    .option('--spiffe-id <id>', 'which SVID to serve, when the Workload API gives several')
    .option('--spiffe-timeout <seconds>', 'with --spiffe-socket: give up (exit 3) when no X509-SVID came within this time', '30')
    .option('--reads-need-token', 'searches and downloads need a token or an SVID too (default: open)')
    .option('--max-evidence-bytes <n>', 'the largest upload accepted', String(DEFAULT_MAX_EVIDENCE_BYTES))
    .option('--layout <file>', 'the signed layout whose verdict the artifact pages show (without it they show the chain, unverified)')
    .option(
      '--layout-key <file>',
      "a layout owner's public key (repeat for each)",
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(
      ctx.action(async (f: ServeFlags) => {
        const { startEvidenceStore } = await import('../store/server.js');
        const { host, port } = parseHostPort(f.bind);
        const maxEvidenceBytes = Number(f.maxEvidenceBytes);
        if (!Number.isSafeInteger(maxEvidenceBytes) || maxEvidenceBytes < 1) {
          throw new EvidentError(
            'BAD_USAGE',
            `store serve: --max-evidence-bytes takes a positive whole number, not '${f.maxEvidenceBytes}'`,
          );
        }
        const path = (p: string | undefined) => (p === undefined ? undefined : resolve(ctx.io.cwd, p));
        const tlsSource = await svidSource(f, ctx);
        const datastore = f.datastore?.startsWith('sqlite:') ? `sqlite:${path(f.datastore.slice('sqlite:'.length))}` : f.datastore;
        const server = await startEvidenceStore({
          ...(f.dataDir !== undefined ? { dataDir: path(f.dataDir) } : {}),
          ...(datastore !== undefined ? { datastore } : {}),
          host,
          port,
          ...(f.tokenFile !== undefined ? { tokenFile: path(f.tokenFile) } : {}),
          ...(f.trustBundle !== undefined ? { trustBundle: path(f.trustBundle) } : {}),
          ...(f.tlsCert !== undefined ? { tlsCert: path(f.tlsCert) } : {}),
          ...(f.tlsKey !== undefined ? { tlsKey: path(f.tlsKey) } : {}),
          ...(tlsSource !== undefined ? { tlsSource } : {}),
          readsNeedToken: f.readsNeedToken === true,
          ...(f.layout !== undefined ? { layout: path(f.layout) } : {}),
          layoutKeys: f.layoutKey.map((k) => path(k)!),
          limits: { maxEvidenceBytes },
          log: (line) => ctx.err(`evident store: ${line}`),
        });
        ctx.err(`evident store: serving ${server.url}`);
        const signal = await untilStopSignal();
        await server.close();
        ctx.err(`evident store: stopped (${signal})`);
        return 0;
      }),
    );
}

/** With --spiffe-socket, the store's own X509-SVID (served-svid.ts); nothing is asked of it yet. */
async function svidSource(f: ServeFlags, ctx: CliContext) {
  if (f.spiffeSocket === undefined && f.spiffeId !== undefined) {
    throw new EvidentError('BAD_USAGE', 'store serve: --spiffe-id chooses among SVIDs: it needs --spiffe-socket');
  }
  return servedSvidSource('store serve', f, ctx, (line) => ctx.err(`evident store: ${line}`));
}
