import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { badInput } from '../../errors.js';

/** What `evident agent run` can be told; in a config file by these names, in the environment as `EVIDENT_AGENT_<NAME>`. */
export const AGENT_SETTINGS = [
  'server', 'trust_bundle', 'trust_domain', 'join_token', 'x509pop_cert', 'x509pop_key', 'insecure_bootstrap', 'socket', 'data_dir', 'log_level',
] as const;
export type AgentSettingName = (typeof AGENT_SETTINGS)[number];
export type AgentSettings = Partial<Record<AgentSettingName, string>>;

const PATHS: ReadonlySet<AgentSettingName> = new Set(['trust_bundle', 'x509pop_cert', 'x509pop_key', 'socket', 'data_dir']);

export function agentSettingsFromEnv(env: NodeJS.ProcessEnv): AgentSettings {
  const out: AgentSettings = {};
  for (const name of AGENT_SETTINGS) {
    const v = env[`EVIDENT_AGENT_${name.toUpperCase()}`];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/** A JSON or YAML mapping of settings; unknown keys are errors; relative paths are relative to the file. */
export async function agentSettingsFromFile(file: string): Promise<AgentSettings> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).path !== undefined) throw e;
    throw badInput(`not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`, file);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw badInput('config must be a mapping of settings', file);
  const out: AgentSettings = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!(AGENT_SETTINGS as readonly string[]).includes(k)) throw badInput(`unknown setting '${k}' (known: ${AGENT_SETTINGS.join(', ')})`, file);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw badInput(`setting '${k}' must be a string, number or boolean`, file);
    const name = k as AgentSettingName;
    const s = String(v);
    out[name] = PATHS.has(name) && !isAbsolute(s) ? resolve(dirname(file), s) : s;
  }
  return out;
}

/** Flags over file over environment (DESIGN.md §6). */
export function mergeAgentSettings(layers: { flags: AgentSettings; file: AgentSettings; env: AgentSettings }): AgentSettings {
  const out: AgentSettings = {};
  for (const name of AGENT_SETTINGS) {
    const v = layers.flags[name] ?? layers.file[name] ?? layers.env[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** `true`/`1`/`yes` (any case) is on. */
export function isOn(v: string | undefined): boolean {
  return v !== undefined && /^(true|1|yes)$/i.test(v);
}
