import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import { DEFAULT_TSA_POLICY } from '../time/policy.js';
import type { CliContext } from './context.js';
import { untilStopSignal } from './stop-signal.js';

interface ServeOpts {
  key: string;
  cert: string;
  bind: string;
  policy: string;
  threads: string;
}

/** `evident tsa serve`: an RFC 3161 time-stamping authority on its own (docs/trusted-time.md). */
export function registerTsa(program: Command, ctx: CliContext): void {
  const tsa = program.command('tsa').description('an RFC 3161 time-stamping authority');
  tsa
    .command('serve')
    .description('serve time-stamp tokens over HTTP (POST /tsa) until SIGTERM or SIGINT')
    .requiredOption('--key <file>', "the TSA's private key (PEM or securesystemslib JSON)")
    .requiredOption('--cert <file>', "the TSA's certificate (critical extended key usage timeStamping), then its intermediates (PEM)")
    .option('--bind <host:port>', 'the address to listen on', '127.0.0.1:3161')
    .option('--policy <oid>', 'the TSA policy OID written in every token', DEFAULT_TSA_POLICY)
    .option('--threads <n>', 'worker threads making tokens (0: the main thread alone)', String(Math.min(availableParallelism(), 4)))
    .action(
      ctx.action(async (o: ServeOpts) => {
        // loaded here, not with the command: `evident tsa --help` needs none of the ASN.1 libraries
        const { loadTsaSigner, parseHostPort, startTsaServer, TimestampAuthority, TsaWorkerPool } = await import('../time/index.js');
        const { host, port } = parseHostPort(o.bind);
        const threads = Number(o.threads);
        if (!Number.isSafeInteger(threads) || threads < 0 || threads > 64) {
          throw new EvidentError('BAD_USAGE', `--threads takes a whole number from 0 to 64, not '${o.threads}'`);
        }
        const given = new Map([
          [resolve(ctx.io.cwd, o.key), o.key],
          [resolve(ctx.io.cwd, o.cert), o.cert],
        ]);
        const signer = await loadTsaSigner(resolve(ctx.io.cwd, o.key), resolve(ctx.io.cwd, o.cert), (f) => given.get(f) ?? f);
        const options = {
          signer,
          policy: o.policy,
          onError: (e: unknown) => ctx.err(`evident: tsa: internal error: ${(e as Error)?.stack ?? String(e)}`),
        };
        const authority = new TimestampAuthority(options);
        const pool = threads > 0 ? await TsaWorkerPool.start(options, threads) : undefined;
        const server = await startTsaServer({ authority: pool ?? authority, host, port }).catch(async (e: unknown) => {
          await pool?.close();
          throw e;
        });
        ctx.err(`evident: tsa: serving ${server.url} (policy ${authority.policy}, certificate ${authority.certificate.subject})`);
        const signal = await untilStopSignal();
        await server.close();
        await pool?.close();
        ctx.err(`evident: tsa: stopped (${signal})`);
        return 0;
      }),
    );
}
