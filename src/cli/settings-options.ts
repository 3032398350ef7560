import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { Setting, SettingLayer, SettingsSchema, SettingValue } from '../util/settings.js';
import type { CliIo } from './context.js';

/**
 * Adds a flag for every setting of the schema (plugins' settings included), so no flag is spelled by hand,
 * and `--config FILE` (or `<prefix>CONFIG`) for a file of them.
 */
export function addSettingOptions(command: Command, schema: SettingsSchema): Command {
  return addSettingFlags(addConfigOption(command, schema.envPrefix), schema);
}

/**
 * addSettingOptions for a subcommand whose schema is costly to load (`server run`, `agent run`: a schema
 * is made from plugin catalogs, which load every plugin's code): `--config` at once, the settings' flags
 * only when this subcommand is the one that runs or shows its help. `evident server --help` and the admin
 * commands then start without loading the server.
 */
export function addSettingOptionsWhenUsed(command: Command, envPrefix: string, schema: () => Promise<SettingsSchema>): Command {
  addConfigOption(command, envPrefix);
  command.parent?.hook('preSubcommand', async (_parent, sub) => {
    if (sub !== command) return;
    const loaded = await schema();
    if (loaded.envPrefix !== envPrefix) throw new Error(`settings of '${command.name()}': prefix ${loaded.envPrefix}, not ${envPrefix}`);
    addSettingFlags(command, loaded);
  });
  return command;
}

function addConfigOption(command: Command, envPrefix: string): Command {
  return command.option(
    '--config <file>',
    `a JSON or YAML file of these settings (or $${envPrefix}CONFIG); flags win, then the file, then ${envPrefix}*`,
  );
}

function addSettingFlags(command: Command, schema: SettingsSchema): Command {
  for (const s of schema.settings()) {
    const help = `${s.doc}${defaultNote(s)}`;
    if (s.type === 'boolean') command.option(s.flag, help);
    else if (s.type === 'plugins')
      command.option(`${s.flag} <${argName(s)}>`, help, (v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    else command.option(`${s.flag} <${argName(s)}>`, help);
  }
  return command;
}

/** The three sources of a command's settings: its flags, its config file (`--config`, or `<prefix>CONFIG`), the environment. */
export async function settingLayers(
  schema: SettingsSchema,
  options: Readonly<Record<string, unknown>> & { config?: string },
  io: CliIo,
): Promise<{ flags: SettingLayer; file: SettingLayer; env: SettingLayer }> {
  const configFile = options.config ?? (io.env[`${schema.envPrefix}CONFIG`] || undefined);
  return {
    flags: schema.fromFlags(options),
    file: configFile ? await schema.fromFile(resolve(io.cwd, configFile)) : {},
    env: schema.fromEnv(io.env),
  };
}

function argName(s: Setting): string {
  return (s.arg ?? 'value').toLowerCase();
}

function defaultNote(s: Setting): string {
  // a plugin's required setting is required only when that plugin is chosen: its doc says which
  if (s.required && s.owner === undefined) return ' (required)';
  if (s.default === undefined) return '';
  const v: SettingValue = s.default;
  return ` (default ${Array.isArray(v) ? v.join(', ') : s.type === 'duration' && typeof v === 'number' ? duration(v) : String(v)})`;
}

/** 86400 → `24h`, as an operator would write it. */
function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}
