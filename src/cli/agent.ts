import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import {
  Agent,
  agentSettingsFromEnv,
  agentSettingsFromFile,
  mergeAgentSettings,
  type AgentSettings,
  checkAgentHealth,
  createAgentLogger,
  isOn,
  DEFAULT_SOCKET_PATH,
  JoinTokenAttestorClient,
  readTrustBundleFile,
  X509popAttestorClient,
  type NodeAttestorClient,
} from '../identity/agent/index.js';
import type { CliContext } from './context.js';

interface RunFlags {
  server?: string;
  trustBundle?: string;
  trustDomain?: string;
  joinToken?: string;
  x509popCert?: string;
  x509popKey?: string;
  insecureBootstrap?: boolean;
  socket?: string;
  dataDir?: string;
  logLevel?: string;
  config?: string;
}

/** The flags given, under their settings names. */
function flagSettings(f: RunFlags): AgentSettings {
  const out: AgentSettings = {
    server: f.server, trust_bundle: f.trustBundle, trust_domain: f.trustDomain, join_token: f.joinToken, x509pop_cert: f.x509popCert,
    x509pop_key: f.x509popKey, insecure_bootstrap: f.insecureBootstrap ? 'true' : undefined, socket: f.socket, data_dir: f.dataDir, log_level: f.logLevel,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as AgentSettings;
}

async function nodeAttestor(f: AgentSettings, cwd: string): Promise<NodeAttestorClient> {
  const x509pop = f.x509pop_cert !== undefined || f.x509pop_key !== undefined;
  if (f.join_token !== undefined && x509pop) throw new EvidentError('BAD_USAGE', 'agent: give either --join-token or the x509pop flags, not both');
  if (f.join_token !== undefined) return new JoinTokenAttestorClient(f.join_token);
  if (x509pop) {
    if (f.x509pop_cert === undefined || f.x509pop_key === undefined) throw new EvidentError('BAD_USAGE', 'agent: --x509pop-cert and --x509pop-key go together');
    return X509popAttestorClient.load(resolve(cwd, f.x509pop_cert), resolve(cwd, f.x509pop_key));
  }
  throw new EvidentError('BAD_USAGE', 'agent: how should the node attest? pass --join-token TOKEN or --x509pop-cert FILE --x509pop-key FILE');
}

/** `evident agent …`: run the node agent (Workload API), and check on it. */
export function registerAgent(program: Command, ctx: CliContext): void {
  const agent = program.command('agent').description('the SPIFFE node agent: attests workloads and serves the Workload API');

  agent
    .command('run')
    .description('attest this node to the server and serve the Workload API until SIGTERM or SIGINT')
    .option('--server <host:port>', 'the server agent API ($EVIDENT_AGENT_SERVER)')
    .option('--trust-bundle <file>', 'PEM roots to trust the server with at first contact, e.g. from `evident server bundle show`')
    .option('--trust-domain <td>', 'the trust domain (default: the one the trust bundle names)')
    .option('--join-token <token>', 'attest with this single-use join token')
    .option('--x509pop-cert <file>', 'attest with x509pop: the node certificate (PEM, then its chain)')
    .option('--x509pop-key <file>', 'the node certificate private key (PEM)')
    .option('--insecure-bootstrap', 'trust the server without a trust bundle (DANGEROUS: labs only)')
    .option('--socket <path>', `the Workload API Unix socket (default ${DEFAULT_SOCKET_PATH})`)
    .option('--data-dir <dir>', 'where the agent keeps its SVID, key and bundle (default ./.evident-agent)')
    .option('--log-level <level>', 'trace, debug, info (default), warn, error')
    .option('--config <file>', 'a JSON or YAML file of these settings (or $EVIDENT_AGENT_CONFIG); flags win, then the file, then EVIDENT_AGENT_*')
    .action(
      ctx.action(async (raw: RunFlags) => {
        const configFile = raw.config ?? (ctx.io.env.EVIDENT_AGENT_CONFIG || undefined);
        const f = mergeAgentSettings({
          flags: flagSettings(raw),
          file: configFile ? await agentSettingsFromFile(resolve(ctx.io.cwd, configFile)) : {},
          env: agentSettingsFromEnv(ctx.io.env),
        });
        const insecure = isOn(f.insecure_bootstrap);
        if (f.server === undefined) throw new EvidentError('BAD_USAGE', 'agent: --server HOST:PORT is required');
        if (f.trust_bundle === undefined && !insecure) {
          throw new EvidentError('BAD_USAGE', 'agent: --trust-bundle FILE is required (or --insecure-bootstrap, which trusts anyone answering)');
        }
        if (insecure && f.trust_bundle === undefined) {
          ctx.warn('INSECURE BOOTSTRAP: the server is not authenticated at first contact; anyone on the network path can impersonate it and issue identities. Use --trust-bundle.');
        }
        const attestor = await nodeAttestor(f, ctx.io.cwd);
        const bundle = f.trust_bundle === undefined ? undefined : await readTrustBundleFile(resolve(ctx.io.cwd, f.trust_bundle));
        const logger = createAgentLogger(f.log_level ?? 'info');
        const trustDomain = f.trust_domain ?? bundle?.trustDomain;
        const a = await Agent.start({
          serverAddress: f.server,
          ...(bundle ? { bootstrapRoots: bundle.roots } : {}),
          ...(trustDomain !== undefined ? { trustDomain } : {}),
          insecureBootstrap: insecure,
          attestor,
          dataDir: resolve(ctx.io.cwd, f.data_dir ?? '.evident-agent'),
          socketPath: resolve(ctx.io.cwd, f.socket ?? DEFAULT_SOCKET_PATH),
          logger,
        });
        logger.info({ agent: a.spiffeId, socket: a.socketPath, server: f.server }, 'agent ready');
        const onSignal = (signal: string): void => {
          logger.info({ signal }, 'shutting down');
          void a.stop();
        };
        const term = (): void => onSignal('SIGTERM');
        const int = (): void => onSignal('SIGINT');
        process.once('SIGTERM', term);
        process.once('SIGINT', int);
        try {
          await a.done;
        } finally {
          process.off('SIGTERM', term);
          process.off('SIGINT', int);
        }
        return 0;
      }),
    );

  agent
    .command('healthcheck')
    .description('exit 0 when an agent answers on the Workload API socket, 3 when not')
    .option('--socket <path>', `the Workload API Unix socket (default ${DEFAULT_SOCKET_PATH})`)
    .option('--json', 'print the result as JSON')
    .action(
      ctx.action(async (f: { socket?: string; json?: boolean }) => {
        const raw = f.socket ?? (ctx.io.env.EVIDENT_AGENT_SOCKET || DEFAULT_SOCKET_PATH);
        const socketPath = resolve(ctx.io.cwd, raw.startsWith('unix://') ? raw.slice('unix://'.length) : raw);
        const r = await checkAgentHealth(socketPath);
        if (f.json) ctx.out(JSON.stringify({ healthy: r.healthy, socket: socketPath, detail: r.detail }));
        if (!r.healthy) throw new EvidentError('ENVIRONMENT', `agent is not healthy: ${r.detail}`, { file: socketPath });
        if (!f.json) ctx.out(`agent is healthy (${r.detail})`);
        return 0;
      }),
    );
}
