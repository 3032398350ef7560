import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { badInput } from '../../errors.js';
import { CA_KEY_TYPES, type CaKeyType } from './ca/index.js';
import { parseDurationSeconds } from './duration.js';
import { parseTrustDomain } from './spiffe-id.js';

/** Everything `evident server run` can be told, resolved. TTLs in seconds. */
export interface ServerConfig {
  trustDomain: string;
  dataDir: string;
  /** `host:port` of the agent API. */
  bind: string;
  adminSocket: string;
  /** `sqlite` (a file in the data dir), `sqlite:PATH`, or a postgres:// URL. */
  datastore: string;
  upstreamCaCert?: string;
  upstreamCaKey?: string;
  /** CA certificates (PEM file) node certificates must chain to for x509pop; x509pop is off without it. */
  x509popCaBundle?: string;
  caTtl: number;
  x509SvidTtl: number;
  jwtSvidTtl: number;
  caKeyType: CaKeyType;
  logLevel: string;
}

/** The settings' names in a config file; env vars are `EVIDENT_SERVER_` + the name upper-cased. */
export const SETTINGS = [
  'trust_domain', 'data_dir', 'bind', 'admin_socket', 'datastore', 'upstream_ca_cert', 'upstream_ca_key',
  'x509pop_ca_bundle', 'ca_ttl', 'x509_svid_ttl', 'jwt_svid_ttl', 'ca_key_type', 'log_level',
] as const;
export type SettingName = (typeof SETTINGS)[number];
export type Settings = Partial<Record<SettingName, string | number>>;

const PATH_SETTINGS: ReadonlySet<SettingName> = new Set(['data_dir', 'admin_socket', 'upstream_ca_cert', 'upstream_ca_key', 'x509pop_ca_bundle']);

export const DEFAULTS = { bind: '127.0.0.1:8081', datastore: 'sqlite', ca_ttl: 86400, x509_svid_ttl: 3600, jwt_svid_ttl: 300, ca_key_type: 'ec-p256', log_level: 'info' } as const;

/** Settings from `EVIDENT_SERVER_*` variables. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  const out: Settings = {};
  for (const name of SETTINGS) {
    const v = env[`EVIDENT_SERVER_${name.toUpperCase()}`];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/**
 * Settings from a JSON or YAML file (YAML is a superset of JSON; one parser reads both). Unknown keys
 * are refused, so a typo is an error rather than a silently ignored setting. Relative paths in the file
 * are relative to the file.
 */
export async function settingsFromFile(file: string): Promise<Settings> {
  const text = await readFile(file, 'utf8');
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw badInput(`not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`, file);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw badInput('config must be a mapping of settings', file);
  const out: Settings = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!(SETTINGS as readonly string[]).includes(k)) throw badInput(`unknown setting '${k}' (known: ${SETTINGS.join(', ')})`, file);
    if (typeof v !== 'string' && typeof v !== 'number') throw badInput(`setting '${k}' must be a string or a number`, file);
    const name = k as SettingName;
    out[name] = PATH_SETTINGS.has(name) && typeof v === 'string' && !isAbsolute(v) ? resolve(dirname(file), v) : v;
  }
  return out;
}

/**
 * Resolves the configuration: flags over file over environment over defaults (DESIGN.md §6).
 * Relative paths from flags and env are relative to `cwd`.
 */
export function resolveServerConfig(layers: { flags: Settings; file: Settings; env: Settings }, cwd: string): ServerConfig {
  const pick = (name: SettingName): string | number | undefined => layers.flags[name] ?? layers.file[name] ?? layers.env[name];
  const str = (name: SettingName): string | undefined => {
    const v = pick(name);
    return v === undefined ? undefined : String(v);
  };
  const path = (name: SettingName): string | undefined => {
    const v = str(name);
    return v === undefined ? undefined : resolve(cwd, v);
  };
  const td = str('trust_domain');
  if (td === undefined) throw badInput('trust domain is required (--trust-domain, trust_domain in the config file, or EVIDENT_SERVER_TRUST_DOMAIN)');
  const dataDir = path('data_dir');
  if (dataDir === undefined) throw badInput('data dir is required (--data-dir, data_dir in the config file, or EVIDENT_SERVER_DATA_DIR)');
  const keyType = str('ca_key_type') ?? DEFAULTS.ca_key_type;
  if (!(CA_KEY_TYPES as readonly string[]).includes(keyType)) throw badInput(`ca_key_type must be one of ${CA_KEY_TYPES.join(', ')}`);
  const upstreamCaCert = path('upstream_ca_cert');
  const upstreamCaKey = path('upstream_ca_key');
  if ((upstreamCaCert === undefined) !== (upstreamCaKey === undefined)) throw badInput('--upstream-ca-cert and --upstream-ca-key go together');
  const bind = str('bind') ?? DEFAULTS.bind;
  if (!/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(bind)) throw badInput(`bind address '${bind}' is not HOST:PORT`);
  const x509popCaBundle = path('x509pop_ca_bundle');
  return {
    trustDomain: parseTrustDomain(td),
    dataDir,
    bind,
    adminSocket: path('admin_socket') ?? join(dataDir, 'admin.sock'),
    datastore: str('datastore') ?? DEFAULTS.datastore,
    ...(upstreamCaCert !== undefined && upstreamCaKey !== undefined ? { upstreamCaCert, upstreamCaKey } : {}),
    ...(x509popCaBundle !== undefined ? { x509popCaBundle } : {}),
    caTtl: parseDurationSeconds(pick('ca_ttl') ?? DEFAULTS.ca_ttl, 'ca_ttl'),
    x509SvidTtl: parseDurationSeconds(pick('x509_svid_ttl') ?? DEFAULTS.x509_svid_ttl, 'x509_svid_ttl'),
    jwtSvidTtl: parseDurationSeconds(pick('jwt_svid_ttl') ?? DEFAULTS.jwt_svid_ttl, 'jwt_svid_ttl'),
    caKeyType: keyType as CaKeyType,
    logLevel: str('log_level') ?? DEFAULTS.log_level,
  };
}
