import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
// Light modules only at the top: `--help` must not load the agent (gRPC, X.509); the actions load it.
import { DEFAULT_SOCKET_PATH } from '../identity/agent/workloadapi/socket.js';
import { unixSocketPath } from '../util/unix-socket.js';
import type { CliContext } from './context.js';
import { addSettingOptionsWhenUsed, settingLayers } from './settings-options.js';

const agentSettings = async () => (await import('../identity/agent/config.js')).AGENT_SETTINGS;

/** `evident agent …`: run the node agent (Workload API), and check on it. */
export function registerAgent(program: Command, ctx: CliContext): void {
  const agent = program.command('agent').description('the SPIFFE node agent: attests workloads and serves the Workload API');

  const run = agent.command('run').description('attest this node to the server and serve the Workload API until SIGTERM or SIGINT');
  addSettingOptionsWhenUsed(run, 'EVIDENT_AGENT_', agentSettings).action(
    ctx.action(async (raw: Record<string, unknown> & { config?: string }) => {
      const {
        Agent,
        AGENT_SETTINGS,
        createAgentLogger,
        nodeAttestorClientCatalog,
        readTrustBundleFile,
        resolveAgentConfig,
        workloadAttestorCatalog,
        WorkloadAttestorRegistry,
      } = await import('../identity/agent/index.js');
      const config = resolveAgentConfig(await settingLayers(AGENT_SETTINGS, raw, ctx.io), ctx.io.cwd);
      // The agent itself warns (in its log) when it does bootstrap insecurely: not when a stored bundle makes it moot.
      const attestor = await nodeAttestorClientCatalog.buildOne(config.nodeAttestor, undefined);
      const attestors = new WorkloadAttestorRegistry(await workloadAttestorCatalog.build(config.workloadAttestors, undefined));
      const bundle = config.trustBundle === undefined ? undefined : await readTrustBundleFile(config.trustBundle);
      const logger = createAgentLogger(config.logLevel, config.logFormat);
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
    .command('selectors')
    .description('list the selectors each attestor produces, with an example: what registration entries may require')
    .option('--json', 'print them as JSON')
    .option('--markdown', 'print them as the Markdown tables of docs/identity.md')
    .action(
      ctx.action(async (f: { json?: boolean; markdown?: boolean }) => {
        if (f.json && f.markdown) throw new EvidentError('BAD_USAGE', 'agent selectors: --json or --markdown, not both');
        const { selectorReference, referenceJson, referenceMarkdown, referenceText } = await import('./selector-reference.js');
        const r = await selectorReference();
        if (f.json) ctx.out(JSON.stringify(referenceJson(r)));
        else for (const line of f.markdown ? referenceMarkdown(r) : referenceText(r)) ctx.out(line);
        return 0;
      }),
    );

  agent
    .command('healthcheck')
    .description('exit 0 when an agent answers on the Workload API socket, 3 when not')
    .option('--socket <path>', `the Workload API socket, a path or unix:// URI (default ${DEFAULT_SOCKET_PATH})`)
    .option('--json', 'print the result as JSON')
    .action(
      ctx.action(async (f: { socket?: string; json?: boolean }) => {
        const socketPath = unixSocketPath(f.socket ?? (ctx.io.env.EVIDENT_AGENT_SOCKET || DEFAULT_SOCKET_PATH), ctx.io.cwd);
        const { checkAgentHealth } = await import('../identity/agent/healthcheck.js');
        const r = await checkAgentHealth(socketPath);
        if (f.json) ctx.out(JSON.stringify({ healthy: r.healthy, socket: socketPath, detail: r.detail }));
        if (!r.healthy) throw new EvidentError('ENVIRONMENT', `agent is not healthy: ${r.detail}`, { file: socketPath });
        if (!f.json) ctx.out(`agent is healthy (${r.detail})`);
        return 0;
      }),
    );
}
