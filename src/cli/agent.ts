import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import {
  Agent,
  AGENT_SETTINGS,
  checkAgentHealth,
  createAgentLogger,
  DEFAULT_SOCKET_PATH,
  nodeAttestorClientCatalog,
  readTrustBundleFile,
  resolveAgentConfig,
  workloadAttestorCatalog,
  WorkloadAttestorRegistry,
} from '../identity/agent/index.js';
import type { CliContext } from './context.js';
import { addSettingOptions, settingLayers } from './settings-options.js';

/** `evident agent …`: run the node agent (Workload API), and check on it. */
export function registerAgent(program: Command, ctx: CliContext): void {
  const agent = program.command('agent').description('the SPIFFE node agent: attests workloads and serves the Workload API');

  const run = agent.command('run').description('attest this node to the server and serve the Workload API until SIGTERM or SIGINT');
  addSettingOptions(run, AGENT_SETTINGS).action(
    ctx.action(async (raw: Record<string, unknown> & { config?: string }) => {
      const config = resolveAgentConfig(await settingLayers(AGENT_SETTINGS, raw, ctx.io), ctx.io.cwd);
      if (config.insecureBootstrap && config.trustBundle === undefined) {
        ctx.warn(
          'INSECURE BOOTSTRAP: the server is not authenticated at first contact; anyone on the network path can impersonate it and issue identities. Use --trust-bundle.',
        );
      }
      const attestor = await nodeAttestorClientCatalog.buildOne(config.nodeAttestor, undefined);
      const attestors = new WorkloadAttestorRegistry(await workloadAttestorCatalog.build(config.workloadAttestors, undefined));
      const bundle = config.trustBundle === undefined ? undefined : await readTrustBundleFile(config.trustBundle);
      const logger = createAgentLogger(config.logLevel);
      const trustDomain = config.trustDomain ?? bundle?.trustDomain;
      const a = await Agent.start({
        serverAddress: config.server,
        ...(bundle ? { bootstrapRoots: bundle.roots } : {}),
        ...(trustDomain !== undefined ? { trustDomain } : {}),
        insecureBootstrap: config.insecureBootstrap,
        attestor,
        attestors,
        dataDir: config.dataDir,
        socketPath: config.socket,
        logger,
      });
      logger.info({ agent: a.spiffeId, socket: a.socketPath, server: config.server }, 'agent ready');
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
