import type { Command } from 'commander';
import { resolve } from 'node:path';
import { EvidentError } from '../errors.js';
import { DEFAULT_MAX_EVIDENCE_BYTES } from '../store/limits.js';
import { parseHostPort } from '../util/host-port.js';
import type { CliContext } from './context.js';
import { untilStopSignal } from './stop-signal.js';

interface ServeFlags {
  dataDir?: string;
  bind: string;
  datastore?: string;
  tokenFile?: string;
  trustBundle?: string;
  tlsCert?: string;
  tlsKey?: string;
  readsNeedToken?: boolean;
  maxEvidenceBytes?: string;
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
    .option('--reads-need-token', 'searches and downloads need a token or an SVID too (default: open)')
    .option('--max-evidence-bytes <n>', 'the largest upload accepted', String(DEFAULT_MAX_EVIDENCE_BYTES))
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
          readsNeedToken: f.readsNeedToken === true,
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
