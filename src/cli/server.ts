import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
// Light modules only at the top: the admin commands and `--help` must not load the server (gRPC, SQLite,
// X.509); `server run` loads it in its action (bench/startup.ts measures this).
import { adminRequest, DEFAULT_ADMIN_SOCKET } from '../identity/server/api/admin-client.js';
import { unixSocketPath } from '../util/unix-socket.js';
import { parseDurationSeconds } from '../identity/server/duration.js';
import type { CliContext } from './context.js';
import { untilStopSignal } from './stop-signal.js';
import { addSettingOptionsWhenUsed, settingLayers } from './settings-options.js';

const serverSettings = async () => (await import('../identity/server/config.js')).SERVER_SETTINGS;

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

/**
 * The admin socket a client command talks to: the flag, else EVIDENT_SERVER_ADMIN_SOCKET (the server's own
 * setting), else the one `server run` listens on by default; a path or a unix:// URI.
 */
function socketFor(opts: AdminOpts, ctx: CliContext): string {
  return unixSocketPath(opts.adminSocket ?? (ctx.io.env.EVIDENT_SERVER_ADMIN_SOCKET || DEFAULT_ADMIN_SOCKET), ctx.io.cwd);
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
  c
    .option(
      '--admin-socket <path>',
      `the server's admin socket, a path or unix:// URI (default: $EVIDENT_SERVER_ADMIN_SOCKET, else ${DEFAULT_ADMIN_SOCKET})`,
    )
    .option('--json', 'print JSON');

function entryFlags(c: Command): Command {
  return adminOption(c)
    .option('--spiffe-id <id>', 'the SPIFFE ID the entry issues')
    .option(
      '--parent-id <id>',
      'who may serve it: an agent ID (`server agent list`), an alias ID a node entry gives agents, or the server ID spiffe://TD/evident/server for a node entry',
    )
    .option(
      '--selector <type:value...>',
      'what the workload must be, e.g. unix:uid:1000 (repeatable; `evident agent selectors` lists them)',
    )
    .option('--x509-svid-ttl <seconds>', 'X509-SVID lifetime (0: the server default)')
    .option('--jwt-svid-ttl <seconds>', 'JWT-SVID lifetime (0: the server default)')
    .option('--dns-name <name...>', 'a DNS SAN for the X509-SVID (repeatable)')
    .option('--hint <hint>', 'a hint for workloads choosing among SVIDs')
    .option('--admin', 'the workload may use the admin API');
}

interface ReachJson {
  entry: string;
  parent_id: string;
  /** An entry parented to the server: it is not served, it names agents (its `agents`). */
  node_entry?: boolean;
  complete: boolean;
  /** Its agents sync with another server: complete by the clock (one sync interval), not by sight. */
  assumed?: boolean;
  sync_interval_seconds: number;
  agents: { spiffe_id: string; reached: boolean; active: boolean; last_fetch: string | null }[];
}

function waitSeconds(v: string | true | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v === true) return 30;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n <= 0 || n > 300) throw new EvidentError('BAD_USAGE', `--wait takes seconds from 1 to 300, not '${v}'`);
  return n;
}

/**
 * After `entry create`: who may serve the new entry, and when workloads will see it. A workload asking
 * before its agent next fetches entries is told "no identity issued"; a parent no agent answers to is the
 * usual set-up mistake, so it is named at once rather than after a wait.
 */
function reportReach(ctx: CliContext, r: ReachJson, wait: number | undefined, spiffeId: string): number {
  if (r.node_entry) {
    if (r.agents.length === 0)
      ctx.warn(`no attested agent has these node selectors yet: ${spiffeId} names none (\`evident server agent list\` shows theirs)`);
    else ctx.err(`evident: ${spiffeId} now names ${r.agents.map((a) => a.spiffe_id).join(', ')}: entries parented to it are theirs`);
    return 0;
  }
  const noAgent =
    `no attested agent may serve it: none is ${r.parent_id}, and no node entry makes it an alias of one ` +
    '(`evident server agent list` shows the agents; docs/identity.md, "Parent IDs")';
  if (wait === undefined) {
    if (r.agents.length === 0) ctx.warn(`${noAgent}; it waits for such an agent`);
    else
      ctx.err(
        `evident: agents fetch new entries every ${r.sync_interval_seconds}s: until then a workload is told "no identity issued" (--wait waits for them)`,
      );
    return 0;
  }
  if (r.assumed) {
    ctx.err(`evident: its agents sync with another server: waited one sync interval (${r.sync_interval_seconds}s), by which they fetch it`);
    return 0;
  }
  if (r.complete) {
    const reached = r.agents.filter((a) => a.reached).map((a) => a.spiffe_id);
    ctx.err(`evident: fetched by ${reached.length === 1 ? 'its agent' : `${reached.length} agents`}: ${reached.join(', ')}`);
    return 0;
  }
  const waiting = r.agents.filter((a) => !a.reached);
  const why =
    r.agents.length === 0
      ? noAgent
      : `${waiting.map((a) => `${a.spiffe_id} (${a.last_fetch === null ? 'not seen by this server' : `last fetched ${a.last_fetch}`})`).join(', ')} did not fetch it`;
  throw new EvidentError('ENVIRONMENT', `entry ${r.entry} was created, but within ${wait}s ${r.agents.length === 0 ? noAgent : why}`);
}

/** `evident server …`: run the identity server, and manage it through its admin socket. */
export function registerServer(program: Command, ctx: CliContext): void {
  const server = program.command('server').description('the SPIFFE identity server: CA, registration entries, node attestation');

  addSettingOptionsWhenUsed(
    server.command('run').description('run the server until SIGTERM or SIGINT'),
    'EVIDENT_SERVER_',
    serverSettings,
  ).action(
    ctx.action(async (o: Record<string, unknown> & { config?: string }) => {
      const { createServerLogger, IdentityServer, resolveServerConfig, SERVER_SETTINGS } = await import('../identity/server/index.js');
      const config = resolveServerConfig(await settingLayers(SERVER_SETTINGS, o, ctx.io), ctx.io.cwd);
      const log = createServerLogger(config.logLevel, config.logFormat);
      const srv = await IdentityServer.start({ config, log });
      log.info(
        {
          trust_domain: config.trustDomain,
          bind: srv.agentApiAddress,
          ...(srv.tsaAddress !== undefined ? { tsa_bind: srv.tsaAddress } : {}),
          admin_socket: config.adminSocket,
          datastore: srv.ds.kind,
        },
        'server ready',
      );
      const signal = await untilStopSignal();
      log.info({ signal }, 'shutting down');
      await srv.stop();
      log.info('stopped');
      return 0;
    }),
  );

  adminOption(server.command('healthcheck').description('exit 0 when the server answers on its admin socket, 3 when not')).action(
    ctx.action(async (o: AdminOpts) => {
      const res = await adminRequest(socketFor(o, ctx), 'GET', '/v1/health');
      ctx.out(o.json ? JSON.stringify(res.body) : 'server is healthy');
      return 0;
    }),
  );

  const entry = server.command('entry').description('registration entries');
  entryFlags(entry.command('create').description('create a registration entry'))
    .option('--wait [seconds]', 'then wait until the agents that may serve it have fetched it, at most this long (default 30)')
    .action(
      ctx.action(async (o: EntryOpts & { wait?: string | true }) => {
        const wait = waitSeconds(o.wait);
        const socket = socketFor(o, ctx);
        const res = await adminRequest(socket, 'POST', '/v1/entries', entryBody(o));
        const created = res.body as EntryJson;
        if (o.json) ctx.out(JSON.stringify(res.body));
        else printEntry(ctx, created);
        const query = wait === undefined ? '' : `?wait=${wait}`;
        const reach = (await adminRequest(socket, 'GET', `/v1/entries/${encodeURIComponent(created.id)}/reach${query}`)).body as ReachJson;
        return reportReach(ctx, reach, wait, created.spiffe_id);
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
        const res = await adminRequest(socketFor(o, ctx), 'GET', `/v1/entries${q.size ? `?${q}` : ''}`);
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
      const res = await adminRequest(socketFor(o, ctx), 'GET', `/v1/entries/${encodeURIComponent(id)}`);
      if (o.json) ctx.out(JSON.stringify(res.body));
      else printEntry(ctx, res.body as EntryJson);
      return 0;
    }),
  );
  entryFlags(entry.command('update').argument('<id>', 'entry ID').description('change fields of a registration entry (others are kept)'))
    .option('--no-admin', 'the workload may no longer use the admin API')
    .action(
      ctx.action(async (id: string, o: EntryOpts) => {
        const res = await adminRequest(socketFor(o, ctx), 'PATCH', `/v1/entries/${encodeURIComponent(id)}`, entryBody(o));
        if (o.json) ctx.out(JSON.stringify(res.body));
        else printEntry(ctx, res.body as EntryJson);
        return 0;
      }),
    );
  adminOption(entry.command('delete').argument('<id>', 'entry ID').description('delete a registration entry')).action(
    ctx.action(async (id: string, o: AdminOpts) => {
      const res = await adminRequest(socketFor(o, ctx), 'DELETE', `/v1/entries/${encodeURIComponent(id)}`);
      ctx.out(o.json ? JSON.stringify(res.body) : `Deleted entry ${id}`);
      return 0;
    }),
  );

  adminOption(server.command('token').description('join tokens').command('generate').description('generate a single-use join token'))
    .option('--spiffe-id <id>', 'also make this ID an alias of the agent the token attests')
    .option('--ttl <seconds>', 'how long the token can be used (at most a year: 31536000)', '600')
    .action(
      ctx.action(async (o: AdminOpts & { spiffeId?: string; ttl: string }) => {
        const { MAX_JOIN_TOKEN_TTL_SECONDS } = await import('../identity/server/nodeattest/join-token.js');
        const ttl = parseDurationSeconds(o.ttl, '--ttl', { seconds: MAX_JOIN_TOKEN_TTL_SECONDS, name: 'one year' });
        const body = { ttl, ...(o.spiffeId ? { spiffe_id: o.spiffeId } : {}) };
        const res = await adminRequest(socketFor(o, ctx), 'POST', '/v1/join-tokens', body);
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
        const res = await adminRequest(socketFor(o, ctx), 'GET', `/v1/bundle?format=${o.format}`);
        ctx.io.stdout.write(typeof res.body === 'string' ? res.body : `${JSON.stringify(res.body, null, 2)}\n`);
        return 0;
      }),
    );

  registerRootCommands(server, ctx);

  const agent = server.command('agent').description('attested agents');
  adminOption(agent.command('list').description('list attested agents')).action(
    ctx.action(async (o: AdminOpts) => {
      const res = await adminRequest(socketFor(o, ctx), 'GET', '/v1/agents');
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
      const res = await adminRequest(socketFor(o, ctx), 'DELETE', `/v1/agents?id=${encodeURIComponent(id)}`);
      ctx.out(o.json ? JSON.stringify(res.body) : `Evicted ${id}`);
      return 0;
    }),
  );
}

interface RootJson {
  id: string;
  status: string;
  subject: string;
  sha256: string;
  not_after: string;
}

/**
 * The trust domain's root and its rotation (docs/identity.md): `show` lists the roots and the signing CAs
 * under them; `prepare`, `activate` and `retire` are the three steps of replacing the root.
 */
function registerRootCommands(server: Command, ctx: CliContext): void {
  const root = server.command('root').description("the trust domain's root, which layouts pin, and its rotation");
  const printRoot = (r: RootJson): void => ctx.out(`${r.id}  ${r.status.padEnd(8)}  expires ${r.not_after}  sha256 ${r.sha256}`);
  adminOption(root.command('show').description('list the roots and the signing CAs and JWT keys that rotate under them')).action(
    ctx.action(async (o: AdminOpts) => {
      const res = await adminRequest(socketFor(o, ctx), 'GET', '/v1/roots');
      const body = res.body as { roots: RootJson[]; keys: { id: string; kind: string; status: string; not_after: string }[] };
      if (o.json) {
        ctx.out(JSON.stringify(body));
        return 0;
      }
      if (body.roots.length === 0) ctx.out('Root: the upstream CA (see --upstream-ca-cert)');
      for (const r of body.roots) printRoot(r);
      for (const k of body.keys.filter((key) => key.kind !== 'root'))
        ctx.out(`  ${k.kind === 'x509' ? 'signing CA' : 'JWT key   '}  ${k.id}  ${k.status.padEnd(8)}  expires ${k.not_after}`);
      return 0;
    }),
  );
  adminOption(
    root
      .command('prepare')
      .description('step 1 of root rotation: make a new root and publish it in the bundle next to the active one (it signs nothing yet)'),
  ).action(
    ctx.action(async (o: AdminOpts) => {
      const r = (await adminRequest(socketFor(o, ctx), 'POST', '/v1/roots')).body as RootJson;
      if (o.json) {
        ctx.out(JSON.stringify(r));
        return 0;
      }
      printRoot(r);
      ctx.err(
        `next: publish the new bundle (evident server bundle show) to agents and layouts, then: evident server root activate ${r.id}`,
      );
      return 0;
    }),
  );
  adminOption(
    root
      .command('activate')
      .argument('<id>', 'the prepared root')
      .description('step 2: the prepared root signs from now on; the old one stays in the bundle until retired'),
  ).action(
    ctx.action(async (id: string, o: AdminOpts) => {
      const r = (await adminRequest(socketFor(o, ctx), 'PATCH', `/v1/roots/${encodeURIComponent(id)}`, { status: 'active' })).body;
      if (o.json) ctx.out(JSON.stringify(r));
      else printRoot(r as RootJson);
      return 0;
    }),
  );
  adminOption(
    root
      .command('retire')
      .argument('<id>', 'an old (or an unwanted prepared) root')
      .description('step 3: remove a root from the bundle, once nothing it signed is still valid'),
  ).action(
    ctx.action(async (id: string, o: AdminOpts) => {
      const r = await adminRequest(socketFor(o, ctx), 'DELETE', `/v1/roots/${encodeURIComponent(id)}`);
      ctx.out(o.json ? JSON.stringify(r.body) : `Retired root ${id}`);
      return 0;
    }),
  );
}
