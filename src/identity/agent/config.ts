import { EvidentError } from '../../errors.js';
import { SettingsSchema, flagWithArg, otherSpellings, type ChosenPlugin, type SettingLayer } from '../../util/settings.js';
import { logSettings, type LogFormat } from '../../util/log-settings.js';
import { DEFAULT_WORKLOAD_ATTESTORS, nodeAttestorClientCatalog, workloadAttestorCatalog } from './catalog.js';
import { DEFAULT_SOCKET_PATH } from './workloadapi/socket.js';

/** Everything `evident agent run` can be told, resolved (paths absolute). */
export interface AgentConfig {
  /** `host:port` of the server's agent API. */
  server: string;
  trustBundle?: string;
  trustDomain?: string;
  insecureBootstrap: boolean;
  /** How this node attests, by its catalog name (catalog.ts), with its settings. */
  nodeAttestor: ChosenPlugin;
  /** The workload attestors to run, by their catalog names, with their settings. */
  workloadAttestors: readonly ChosenPlugin[];
  socket: string;
  dataDir: string;
  logLevel: string;
  /** Unset: text when stderr is a terminal, else json (util/log.ts). */
  logFormat?: LogFormat;
}

/**
 * The agent's settings, each described once: its flag (`--server`), config file key (`server`) and env
 * var (`EVIDENT_AGENT_SERVER`) are derived from it, and so are the attestors' own settings
 * (`--join-token`, `--x509pop-cert`, `node_attestor: {x509pop: {cert: …, key: …}}`).
 */
export const AGENT_SETTINGS = new SettingsSchema('EVIDENT_AGENT_', [
  { name: 'server', type: 'string', arg: 'HOST:PORT', required: true, doc: "the server's agent API (its --bind)" },
  {
    name: 'trust_bundle',
    type: 'path',
    arg: 'FILE',
    doc: 'PEM roots to trust the server with at first contact, from `evident server bundle show` (required unless --insecure-bootstrap)',
  },
  { name: 'trust_domain', type: 'string', arg: 'TD', doc: 'the trust domain (default: the one the trust bundle names)' },
  {
    name: 'node_attestor',
    type: 'plugin',
    arg: 'NAME',
    plugins: nodeAttestorClientCatalog,
    doc: 'how this node attests (default: the one whose settings are given)',
  },
  {
    name: 'workload_attestors',
    type: 'plugins',
    arg: 'NAME',
    default: DEFAULT_WORKLOAD_ATTESTORS,
    plugins: workloadAttestorCatalog,
    doc: 'a workload attestor to run, repeatable',
  },
  { name: 'insecure_bootstrap', type: 'boolean', doc: 'trust the server without a trust bundle (DANGEROUS: labs only)' },
  {
    name: 'socket',
    type: 'socket',
    arg: 'PATH',
    default: DEFAULT_SOCKET_PATH,
    doc: 'the Workload API Unix socket, a path or unix:// URI; clients look there when SPIFFE_ENDPOINT_SOCKET is unset',
  },
  { name: 'data_dir', type: 'path', arg: 'DIR', default: '.evident-agent', doc: 'where the agent keeps its SVID, key and bundle' },
  { name: 'log_level', type: 'string', arg: 'LEVEL', default: 'info', doc: 'trace, debug, info, warn, error' },
  {
    name: 'log_format',
    type: 'string',
    arg: 'FORMAT',
    doc: 'text or json (default: text when stderr is a terminal, else json); both with ISO-8601 times',
  },
]);

/** Settings from one source, by name (`server`, `join_token`, `x509pop_cert`). */
export type AgentSettings = SettingLayer;

/** Settings from `EVIDENT_AGENT_*` variables. */
export function agentSettingsFromEnv(env: NodeJS.ProcessEnv): AgentSettings {
  return AGENT_SETTINGS.fromEnv(env);
}

/** A JSON or YAML mapping of settings; unknown keys are errors; relative paths are relative to the file. */
export function agentSettingsFromFile(file: string): Promise<AgentSettings> {
  return AGENT_SETTINGS.fromFile(file);
}

/**
 * Resolves the configuration: flags over file over environment over defaults (docs/ARCHITECTURE.md, CLI
 * contract), the same rules as the server's. Relative paths from flags and env are relative to `cwd`.
 */
export function resolveAgentConfig(layers: { flags: AgentSettings; file: AgentSettings; env: AgentSettings }, cwd: string): AgentConfig {
  const r = AGENT_SETTINGS.resolve(layers, cwd);
  const usage = (message: string): EvidentError => new EvidentError('BAD_USAGE', `agent: ${message}`);
  const server = r.string('server');
  const serverSetting = AGENT_SETTINGS.setting('server');
  if (server === undefined) throw usage(`${flagWithArg(serverSetting)} is required ${otherSpellings(serverSetting)}`);
  const insecureBootstrap = r.boolean('insecure_bootstrap');
  const trustBundle = r.string('trust_bundle');
  if (trustBundle === undefined && !insecureBootstrap)
    throw usage('--trust-bundle FILE is required (or --insecure-bootstrap, which trusts anyone answering)');
  const [nodeAttestor] = r.plugins('node_attestor');
  if (nodeAttestor === undefined) throw usage(`how should the node attest? pass ${howToAttest()}`);
  const trustDomain = r.string('trust_domain');
  return {
    server,
    ...(trustBundle !== undefined ? { trustBundle } : {}),
    ...(trustDomain !== undefined ? { trustDomain } : {}),
    insecureBootstrap,
    nodeAttestor,
    workloadAttestors: r.plugins('workload_attestors'),
    socket: r.string('socket')!,
    dataDir: r.string('data_dir')!,
    ...logSettings(r.string('log_level')!, r.string('log_format'), (name) => AGENT_SETTINGS.where(name)),
  };
}

/**
 * `--join-token TOKEN or --x509pop-cert FILE --x509pop-key FILE or --tpm`: each node attestor's required
 * settings, or the switch that turns it on, from the catalog.
 */
function howToAttest(): string {
  const settings = AGENT_SETTINGS.settings();
  const own = (plugin: string) => settings.filter((s) => s.owner?.choice.name === 'node_attestor' && s.owner.plugin === plugin);
  return nodeAttestorClientCatalog
    .names()
    .map(
      (name) =>
        own(name)
          .filter((s) => s.required)
          .map(flagWithArg)
          .join(' ') ||
        own(name).find((s) => s.type === 'boolean')?.flag ||
        `--node-attestor ${name}`,
    )
    .join(' or ');
}
