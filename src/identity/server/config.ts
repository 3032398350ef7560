import { badInput } from '../../errors.js';
import { SettingsSchema, type ChosenPlugin, type SettingLayer } from '../../util/settings.js';
import { logSettings, type LogFormat } from '../../util/log-settings.js';
import { DEFAULT_ADMIN_SOCKET } from './api/admin-client.js';
import { CA_KEY_TYPES, DEFAULT_ROOT_TTL_SECONDS, type CaKeyType } from './ca/constants.js';
import { nodeAttestorCatalog } from './catalog.js';
import { parseDurationSeconds } from './duration.js';
import { parseTrustDomain } from './spiffe-id.js';
import { parseHostPort } from '../../util/host-port.js';

/** Everything `evident server run` can be told, resolved. TTLs in seconds. */
export interface ServerConfig {
  trustDomain: string;
  dataDir: string;
  /** `host:port` of the agent API. */
  bind: string;
  /** `host:port` to serve RFC 3161 time-stamps on (`POST /tsa`, HTTP); unset, no TSA. */
  tsaBind?: string;
  adminSocket: string;
  /** `sqlite` (a file in the data dir), `sqlite:PATH`, or a postgres:// URL. */
  datastore: string;
  upstreamCaCert?: string;
  upstreamCaKey?: string;
  /** The node attestors to run, by their catalog names (catalog.ts), with their settings. */
  nodeAttestors: readonly ChosenPlugin[];
  caTtl: number;
  rootTtl: number;
  x509SvidTtl: number;
  jwtSvidTtl: number;
  caKeyType: CaKeyType;
  logLevel: string;
  /** Unset: text when stderr is a terminal, else json (util/log.ts). */
  logFormat?: LogFormat;
}

/**
 * The server's settings, each described once: its flag (`--trust-domain`), config file key
 * (`trust_domain`) and env var (`EVIDENT_SERVER_TRUST_DOMAIN`) are derived from it, and so are the node
 * attestors' own settings (`--x509pop-ca-bundle`, `node_attestors: {x509pop: {ca_bundle: …}}`).
 */
export const SERVER_SETTINGS = new SettingsSchema('EVIDENT_SERVER_', [
  { name: 'trust_domain', type: 'string', arg: 'TD', required: true, doc: 'the trust domain, e.g. example.org' },
  { name: 'data_dir', type: 'path', arg: 'DIR', required: true, doc: 'where the datastore (with the CA keys) lives' },
  { name: 'bind', type: 'string', arg: 'HOST:PORT', default: '127.0.0.1:8081', doc: 'agent API address' },
  {
    name: 'tsa_bind',
    type: 'string',
    arg: 'HOST:PORT',
    doc: 'also serve RFC 3161 time-stamps (POST /tsa, HTTP) here, signed under the root (docs/trusted-time.md)',
  },
  {
    name: 'admin_socket',
    type: 'socket',
    arg: 'PATH',
    default: DEFAULT_ADMIN_SOCKET,
    doc: 'admin API Unix socket, a path or unix:// URI; the admin commands look there too',
  },
  { name: 'datastore', type: 'string', arg: 'SPEC', default: 'sqlite', doc: 'sqlite or a postgres:// URL' },
  { name: 'upstream_ca_cert', type: 'path', arg: 'FILE', doc: 'sign the CA under this upstream CA (PEM cert, then its chain)' },
  { name: 'upstream_ca_key', type: 'path', arg: 'FILE', doc: 'the upstream CA private key (PEM)' },
  {
    name: 'node_attestors',
    type: 'plugins',
    arg: 'NAME',
    default: ['join_token'],
    plugins: nodeAttestorCatalog,
    doc: 'a node attestor to accept, repeatable; when none is named, also each one whose settings are given',
  },
  { name: 'ca_ttl', type: 'duration', arg: 'DURATION', default: 86400, doc: 'signing CA lifetime (they rotate under the root)' },
  {
    name: 'root_ttl',
    type: 'duration',
    arg: 'DURATION',
    default: DEFAULT_ROOT_TTL_SECONDS,
    doc: "lifetime of the trust domain's own root, which layouts pin (ten years)",
  },
  { name: 'x509_svid_ttl', type: 'duration', arg: 'DURATION', default: 3600, doc: 'default X509-SVID lifetime' },
  { name: 'jwt_svid_ttl', type: 'duration', arg: 'DURATION', default: 300, doc: 'default JWT-SVID lifetime' },
  { name: 'ca_key_type', type: 'string', arg: 'TYPE', default: 'ec-p256', doc: `CA key type: ${CA_KEY_TYPES.join(', ')}` },
  { name: 'log_level', type: 'string', arg: 'LEVEL', default: 'info', doc: 'trace, debug, info, warn, error' },
  {
    name: 'log_format',
    type: 'string',
    arg: 'FORMAT',
    doc: 'text or json (default: text when stderr is a terminal, else json); both with ISO-8601 times',
  },
]);

/** Settings from one source, by name (`trust_domain`, `x509pop_ca_bundle`). */
export type Settings = SettingLayer;

export const DEFAULTS = SERVER_SETTINGS.defaults();

/** Settings from `EVIDENT_SERVER_*` variables. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  return SERVER_SETTINGS.fromEnv(env);
}

/** Settings from a JSON or YAML file; unknown keys are refused, relative paths are relative to the file. */
export function settingsFromFile(file: string): Promise<Settings> {
  return SERVER_SETTINGS.fromFile(file);
}

/**
 * Resolves the configuration: flags over file over environment over defaults (docs/ARCHITECTURE.md, CLI contract).
 * Relative paths from flags and env are relative to `cwd`.
 */
export function resolveServerConfig(layers: { flags: Settings; file: Settings; env: Settings }, cwd: string): ServerConfig {
  const r = SERVER_SETTINGS.resolve(layers, cwd);
  const td = r.string('trust_domain');
  if (td === undefined) throw badInput(`trust domain is required (${SERVER_SETTINGS.where('trust_domain')})`);
  const dataDir = r.string('data_dir');
  if (dataDir === undefined) throw badInput(`data dir is required (${SERVER_SETTINGS.where('data_dir')})`);
  const keyType = r.string('ca_key_type')!;
  if (!(CA_KEY_TYPES as readonly string[]).includes(keyType)) throw badInput(`ca_key_type must be one of ${CA_KEY_TYPES.join(', ')}`);
  const upstreamCaCert = r.string('upstream_ca_cert');
  const upstreamCaKey = r.string('upstream_ca_key');
  if ((upstreamCaCert === undefined) !== (upstreamCaKey === undefined))
    throw badInput('--upstream-ca-cert and --upstream-ca-key go together');
  const bind = hostPort(r.string('bind')!, 'bind');
  const tsaBind = r.string('tsa_bind');
  if (tsaBind !== undefined) hostPort(tsaBind, 'tsa_bind');
  const duration = (name: string): number => parseDurationSeconds(r.value(name) as string | number, name);
  return {
    trustDomain: parseTrustDomain(td),
    dataDir,
    bind,
    ...(tsaBind !== undefined ? { tsaBind } : {}),
    adminSocket: r.string('admin_socket')!,
    datastore: r.string('datastore')!,
    ...(upstreamCaCert !== undefined && upstreamCaKey !== undefined ? { upstreamCaCert, upstreamCaKey } : {}),
    nodeAttestors: r.plugins('node_attestors'),
    caTtl: duration('ca_ttl'),
    rootTtl: duration('root_ttl'),
    x509SvidTtl: duration('x509_svid_ttl'),
    jwtSvidTtl: duration('jwt_svid_ttl'),
    caKeyType: keyType as CaKeyType,
    ...logSettings(r.string('log_level')!, r.string('log_format'), (name) => SERVER_SETTINGS.where(name)),
  };
}

/** `address` when it is `HOST:PORT` (`[::1]:8081` for an IPv6 address). */
function hostPort(address: string, name: string): string {
  parseHostPort(address, name);
  return address;
}
