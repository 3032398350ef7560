import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import {
  adminRequest,
  createServerLogger,
  IdentityServer,
  parseDurationSeconds,
  resolveServerConfig,
  SERVER_SETTINGS,
} from '../identity/server/index.js';
import { MAX_JOIN_TOKEN_TTL_SECONDS } from '../identity/server/nodeattest/join-token.js';
import type { CliContext } from './context.js';
import { addSettingOptions, settingLayers } from './settings-options.js';

interface AdminOpts {
  adminSocket?: string;
  json?: boolean;
}

interface EntryOpts extends AdminOpts {
  spiffeId?: string;
  parentId?: string;
  selector?: string[];
  x509SvidTtl?: string;
  jwtSvidTtl?: string;
  dnsName?: string[];
  hint?: string;
  admin?: boolean;
}

interface EntryJson {
  id: string;
  spiffe_id: string;
  parent_id: string;
  selectors: string[];
  x509_svid_ttl: number;
  jwt_svid_ttl: number;
  dns_names: string[];
  hint: string;
  admin: boolean;
  revision: number;
}

/** The admin socket a client command talks to: the flag, else the server's env settings. */
function socketFor(opts: AdminOpts, env: NodeJS.ProcessEnv): string {
  if (opts.adminSocket) return opts.adminSocket;
  if (env.EVIDENT_SERVER_ADMIN_SOCKET) return env.EVIDENT_SERVER_ADMIN_SOCKET;
  if (env.EVIDENT_SERVER_DATA_DIR) return `${env.EVIDENT_SERVER_DATA_DIR}/admin.sock`;
  throw new EvidentError('BAD_USAGE', 'which server? pass --admin-socket PATH (or set EVIDENT_SERVER_ADMIN_SOCKET)');
}

function ttlFlag(v: string | undefined, what: string): number | undefined {
  return v === undefined ? undefined : parseDurationSeconds(v, what);
}

function entryBody(o: EntryOpts): Record<string, unknown> {
  const body: Record<string, unknown> = {
    spiffe_id: o.spiffeId,
    parent_id: o.parentId,
    selectors: o.selector,
    x509_svid_ttl: ttlFlag(o.x509SvidTtl, '--x509-svid-ttl'),
    jwt_svid_ttl: ttlFlag(o.jwtSvidTtl, '--jwt-svid-ttl'),
    dns_names: o.dnsName,
    hint: o.hint,
    admin: o.admin,
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

function printEntry(ctx: CliContext, e: EntryJson): void {
  const ttl = (n: number) => (n === 0 ? 'default' : `${n}s`);
  ctx.out(`Entry ID         : ${e.id}`);
  ctx.out(`SPIFFE ID        : ${e.spiffe_id}`);
  ctx.out(`Parent ID        : ${e.parent_id}`);
  for (const s of e.selectors) ctx.out(`Selector         : ${s}`);
  ctx.out(`X509-SVID TTL    : ${ttl(e.x509_svid_ttl)}`);
  ctx.out(`JWT-SVID TTL     : ${ttl(e.jwt_svid_ttl)}`);
  for (const d of e.dns_names) ctx.out(`DNS name         : ${d}`);
  if (e.hint) ctx.out(`Hint             : ${e.hint}`);
  if (e.admin) ctx.out('Admin            : true');
  ctx.out(`Revision         : ${e.revision}`);
}

const adminOption = (c: Command) =>
  c.option('--admin-socket <path>', 'the server admin socket (default: $EVIDENT_SERVER_ADMIN_SOCKET)').option('--json', 'print JSON');

function entryFlags(c: Command): Command {
  return adminOption(c)
    .option('--spiffe-id <id>', 'the SPIFFE ID the entry issues')
    .option('--parent-id <id>', 'the agent (or node alias) that may serve it')
    .option('--selector <type:value...>', 'a selector, e.g. unix:uid:1000 (repeatable)')
    .option('--x509-svid-ttl <seconds>', 'X509-SVID lifetime (0: the server default)')
    .option('--jwt-svid-ttl <seconds>', 'JWT-SVID lifetime (0: the server default)')
    .option('--dns-name <name...>', 'a DNS SAN for the X509-SVID (repeatable)')
    .option('--hint <hint>', 'a hint for workloads choosing among SVIDs')
    .option('--admin', 'the workload may use the admin API');
}

/** `evident server …`: run the identity server, and manage it through its admin socket. */
export function registerServer(program: Command, ctx: CliContext): void {
  const server = program.command('server').description('the SPIFFE identity server: CA, registration entries, node attestation');

  addSettingOptions(server.command('run').description('run the server until SIGTERM or SIGINT'), SERVER_SETTINGS).action(
    ctx.action(async (o: Record<string, unknown> & { config?: string }) => {
      const config = resolveServerConfig(await settingLayers(SERVER_SETTINGS, o, ctx.io), ctx.io.cwd);
      const log = createServerLogger(config.logLevel);
      const srv = await IdentityServer.start({ config, log });
      log.info(
        { trust_domain: config.trustDomain, bind: srv.agentApiAddress, admin_socket: config.adminSocket, datastore: srv.ds.kind },
        'server ready',
      );
      const signal = await new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      log.info({ signal }, 'shutting down');
      await srv.stop();
      log.info('stopped');
      return 0;
    }),
  );

  adminOption(server.command('healthcheck').description('exit 0 when the server answers on its admin socket, 3 when not')).action(
    ctx.action(async (o: AdminOpts) => {
      const res = await adminRequest(socketFor(o, ctx.io.env), 'GET', '/v1/health');
      ctx.out(o.json ? JSON.stringify(res.body) : 'server is healthy');
      return 0;
    }),
  );

  const entry = server.command('entry').description('registration entries');
  entryFlags(entry.command('create').description('create a registration entry')).action(
    ctx.action(async (o: EntryOpts) => {
      const res = await adminRequest(socketFor(o, ctx.io.env), 'POST', '/v1/entries', entryBody(o));
      if (o.json) ctx.out(JSON.stringify(res.body));
      else printEntry(ctx, res.body as EntryJson);
      return 0;
    }),
  );
  adminOption(entry.command('list').description('list registration entries'))
    .option('--spiffe-id <id>', 'only entries with this SPIFFE ID')
    .option('--parent-id <id>', 'only entries with this parent')
    .action(
      ctx.action(async (o: EntryOpts) => {
        const q = new URLSearchParams();
        if (o.spiffeId) q.set('spiffe_id', o.spiffeId);
        if (o.parentId) q.set('parent_id', o.parentId);
        const res = await adminRequest(socketFor(o, ctx.io.env), 'GET', `/v1/entries${q.size ? `?${q}` : ''}`);
        const entries = (res.body as { entries: EntryJson[] }).entries;
        if (o.json) ctx.out(JSON.stringify(res.body));
        else if (entries.length === 0) ctx.out('No entries');
        else
          entries.forEach((e, i) => {
            if (i > 0) ctx.out('');
            printEntry(ctx, e);
          });
        return 0;
      }),
    );
  adminOption(entry.command('show').argument('<id>', 'entry ID').description('show one registration entry')).action(
    ctx.action(async (id: string, o: AdminOpts) => {
      const res = await adminRequest(socketFor(o, ctx.io.env), 'GET', `/v1/entries/${encodeURIComponent(id)}`);
      if (o.json) ctx.out(JSON.stringify(res.body));
      else printEntry(ctx, res.body as EntryJson);
      return 0;
    }),
  );
  entryFlags(entry.command('update').argument('<id>', 'entry ID').description('change fields of a registration entry (others are kept)'))
    .option('--no-admin', 'the workload may no longer use the admin API')
    .action(
      ctx.action(async (id: string, o: EntryOpts) => {
        const res = await adminRequest(socketFor(o, ctx.io.env), 'PATCH', `/v1/entries/${encodeURIComponent(id)}`, entryBody(o));
        if (o.json) ctx.out(JSON.stringify(res.body));
        else printEntry(ctx, res.body as EntryJson);
        return 0;
      }),
    );
  adminOption(entry.command('delete').argument('<id>', 'entry ID').description('delete a registration entry')).action(
    ctx.action(async (id: string, o: AdminOpts) => {
      const res = await adminRequest(socketFor(o, ctx.io.env), 'DELETE', `/v1/entries/${encodeURIComponent(id)}`);
      ctx.out(o.json ? JSON.stringify(res.body) : `Deleted entry ${id}`);
      return 0;
    }),
  );

  adminOption(server.command('token').description('join tokens').command('generate').description('generate a single-use join token'))
    .option('--spiffe-id <id>', 'also make this ID an alias of the agent the token attests')
    .option('--ttl <seconds>', 'how long the token can be used (at most a year: 31536000)', '600')
    .action(
      ctx.action(async (o: AdminOpts & { spiffeId?: string; ttl: string }) => {
        const ttl = parseDurationSeconds(o.ttl, '--ttl', { seconds: MAX_JOIN_TOKEN_TTL_SECONDS, name: 'one year' });
        const body = { ttl, ...(o.spiffeId ? { spiffe_id: o.spiffeId } : {}) };
        const res = await adminRequest(socketFor(o, ctx.io.env), 'POST', '/v1/join-tokens', body);
        ctx.out(o.json ? JSON.stringify(res.body) : (res.body as { token: string }).token);
        return 0;
      }),
    );

  adminOption(server.command('bundle').description('the trust bundle').command('show').description('print the trust bundle'))
    .option('--format <format>', 'pem or spiffe', 'pem')
    .action(
      ctx.action(async (o: AdminOpts & { format: string }) => {
        if (o.format !== 'pem' && o.format !== 'spiffe')
          throw new EvidentError('BAD_USAGE', `--format must be pem or spiffe, not '${o.format}'`);
        const res = await adminRequest(socketFor(o, ctx.io.env), 'GET', `/v1/bundle?format=${o.format}`);
        ctx.io.stdout.write(typeof res.body === 'string' ? res.body : `${JSON.stringify(res.body, null, 2)}\n`);
        return 0;
      }),
    );

  const agent = server.command('agent').description('attested agents');
  adminOption(agent.command('list').description('list attested agents')).action(
    ctx.action(async (o: AdminOpts) => {
      const res = await adminRequest(socketFor(o, ctx.io.env), 'GET', '/v1/agents');
      const agents = (res.body as { agents: { spiffe_id: string; attestation_type: string; expires_at: string; selectors: string[] }[] })
        .agents;
      if (o.json) ctx.out(JSON.stringify(res.body));
      else if (agents.length === 0) ctx.out('No attested agents');
      else
        for (const a of agents)
          ctx.out(
            `${a.spiffe_id}  ${a.attestation_type}  SVID expires ${a.expires_at}${a.selectors.length ? `  ${a.selectors.join(' ')}` : ''}`,
          );
      return 0;
    }),
  );
  adminOption(
    agent.command('evict').argument('<spiffe-id>', 'the agent').description('forget an attested agent; it must attest again'),
  ).action(
    ctx.action(async (id: string, o: AdminOpts) => {
      const res = await adminRequest(socketFor(o, ctx.io.env), 'DELETE', `/v1/agents?id=${encodeURIComponent(id)}`);
      ctx.out(o.json ? JSON.stringify(res.body) : `Evicted ${id}`);
      return 0;
    }),
  );
}
