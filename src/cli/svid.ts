import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { SpiffeId } from '../spiffe/spiffeid/index.js';
// the Workload API client (gRPC, X.509, JOSE) is loaded by the actions, not by `--help`
import type { WorkloadApiClient, X509Context } from '../spiffe/workloadapi/index.js';

const workloadApi = () => import('../spiffe/workloadapi/index.js');
import type { X509Svid } from '../spiffe/x509svid/index.js';
import type { CliContext } from './context.js';
import { WORKLOAD_API_SOCKET_HELP } from './workload-api-socket.js';

interface CommonFlags {
  socket?: string;
  timeout: string;
  json?: boolean;
}

interface FetchFlags extends CommonFlags {
  spiffeId?: string;
  hint?: string;
  write?: string;
}

interface FetchJwtFlags extends CommonFlags {
  audience: string[];
  spiffeId?: string;
}

interface ValidateJwtFlags extends CommonFlags {
  audience: string;
  token?: string;
}

function withSocketOptions(cmd: Command): Command {
  return cmd
    .option('--socket <path>', WORKLOAD_API_SOCKET_HELP)
    .option('--timeout <seconds>', 'give up on the Workload API after this many seconds', '30')
    .option('--json', 'print the result as JSON');
}

async function openClient(ctx: CliContext, flags: CommonFlags): Promise<WorkloadApiClient> {
  const seconds = Number(flags.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new EvidentError('BAD_USAGE', `svid: --timeout must be a positive number of seconds`);
  return (await workloadApi()).WorkloadApiClient.create({
    address: flags.socket,
    env: ctx.io.env,
    cwd: ctx.io.cwd,
    timeoutMs: seconds * 1000,
  });
}

function parseIdFlag(value: string | undefined): SpiffeId | undefined {
  if (value === undefined) return undefined;
  try {
    return SpiffeId.parse(value);
  } catch (e) {
    throw new EvidentError('BAD_USAGE', `svid: --spiffe-id: ${(e as Error).message}`);
  }
}

/**
 * `evident svid fetch|fetch-jwt|validate-jwt`: the Workload API from the command line, as
 * `spire-agent api fetch x509 [-write DIR]`, `fetch jwt` and `validate jwt` do.
 */
export function registerSvid(program: Command, ctx: CliContext): void {
  const svid = program.command('svid').description('fetch and check SPIFFE identities from the Workload API');

  withSocketOptions(
    svid
      .command('fetch')
      .description("fetch this process's X.509-SVID; --write DIR saves svid.pem, svid.key (0600) and bundle.pem")
      .option('--spiffe-id <id>', 'pick the SVID with this SPIFFE ID (default: the first, the default identity)')
      .option('--hint <hint>', 'pick the SVID with this hint')
      .option('--write <dir>', 'write svid.pem, svid.key and bundle.pem into DIR'),
  ).action(
    ctx.action(async (flags: FetchFlags) => {
      const spiffeId = parseIdFlag(flags.spiffeId);
      const client = await openClient(ctx, flags);
      let context: X509Context;
      try {
        context = await client.fetchX509Context();
      } finally {
        client.close();
      }
      const chosen = (await workloadApi()).pickSvid(context.svids, { spiffeId, hint: flags.hint });
      const written = flags.write === undefined ? [] : await writeSvidFiles(resolve(ctx.io.cwd, flags.write), chosen, context);
      printSvid(ctx, chosen, context, written, flags.json === true);
      return 0;
    }),
  );

  withSocketOptions(
    svid
      .command('fetch-jwt')
      .description('fetch a JWT-SVID for an audience; prints the token')
      .requiredOption('--audience <aud...>', 'audience(s) the token is for')
      .option('--spiffe-id <id>', 'the SPIFFE ID to fetch the token for (default: the first)'),
  ).action(
    ctx.action(async (flags: FetchJwtFlags) => {
      const spiffeId = parseIdFlag(flags.spiffeId);
      const client = await openClient(ctx, flags);
      try {
        const jwt = await client.fetchJWTSVID({ audience: flags.audience, spiffeId });
        if (flags.json) {
          ctx.out(
            JSON.stringify({
              spiffeId: jwt.id.toString(),
              audience: jwt.audience,
              expiresAt: jwt.expiry.toISOString(),
              hint: jwt.hint,
              token: jwt.marshal(),
            }),
          );
        } else {
          ctx.out(jwt.marshal());
        }
      } finally {
        client.close();
      }
      return 0;
    }),
  );

  withSocketOptions(
    svid
      .command('validate-jwt')
      .description('ask the Workload API whether a JWT-SVID is valid for an audience (exit 1 if not)')
      .requiredOption('--audience <aud>', 'the audience the token must carry')
      .option('--token <jwt>', 'the token (default: read from stdin)'),
  ).action(
    ctx.action(async (flags: ValidateJwtFlags) => {
      const token = (flags.token ?? (await readStdin())).trim();
      if (token === '') throw new EvidentError('BAD_USAGE', 'svid: validate-jwt: no token given (use --token or stdin)');
      if (flags.audience === '') throw new EvidentError('BAD_USAGE', 'svid: validate-jwt: --audience cannot be empty');
      const client = await openClient(ctx, flags);
      try {
        const jwt = await client.validateJWTSVID(token, flags.audience);
        if (flags.json) ctx.out(JSON.stringify({ valid: true, spiffeId: jwt.id.toString(), claims: jwt.claims }));
        else ctx.out(`token is valid for ${jwt.id.toString()} (expires ${jwt.expiry.toISOString()})`);
        return 0;
      } catch (e) {
        // The agent says InvalidArgument for a token it does not accept: a failed verification (exit 1).
        if (!(e instanceof (await workloadApi()).WorkloadApiError) || e.reason !== 'INVALID_ARGUMENT') throw e;
        if (flags.json) ctx.out(JSON.stringify({ valid: false, error: e.message }));
        ctx.err(`evident: token is not valid: ${e.message}`);
        return 1;
      } finally {
        client.close();
      }
    }),
  );
}

async function writeSvidFiles(dir: string, chosen: X509Svid, context: X509Context): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const pem = chosen.marshal();
  const bundle = context.bundles.get(chosen.id.trustDomain);
  const files: [string, string, number][] = [
    ['svid.pem', pem.certificates, 0o644],
    ['svid.key', pem.privateKey, 0o600],
    ['bundle.pem', bundle?.marshal() ?? '', 0o644],
  ];
  for (const [name, data, mode] of files) await writeFileAtomic(resolve(dir, name), data, mode);
  return files.map(([name]) => resolve(dir, name));
}

function printSvid(ctx: CliContext, svid: X509Svid, context: X509Context, written: string[], json: boolean): void {
  const chain = svid.certificates.map((c) => ({
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serialNumber,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
  }));
  const bundles = context.bundles.bundles().map((b) => ({ trustDomain: b.trustDomain.name, authorities: b.authorities.length }));
  if (json) {
    ctx.out(
      JSON.stringify({ spiffeId: svid.id.toString(), hint: svid.hint, expiresAt: svid.expiresAt.toISOString(), chain, bundles, written }),
    );
    return;
  }
  ctx.out(`SPIFFE ID:  ${svid.id.toString()}`);
  if (svid.hint !== '') ctx.out(`Hint:       ${svid.hint}`);
  ctx.out(`Expires:    ${svid.expiresAt.toISOString()}`);
  ctx.out('Chain:');
  chain.forEach((c, i) => ctx.out(`  [${i}] ${c.subject} (issuer: ${c.issuer}; valid ${c.notBefore} .. ${c.notAfter})`));
  ctx.out(`Bundles:    ${bundles.map((b) => `${b.trustDomain} (${b.authorities} CA${b.authorities === 1 ? '' : 's'})`).join(', ')}`);
  for (const f of written) ctx.out(`Wrote ${f}`);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}
