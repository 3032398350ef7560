import type { Command } from 'commander';
import type { Setting, SettingsSchema, SettingValue } from '../util/settings.js';

/** Adds a flag for every setting of the schema (plugins' settings included), so no flag is spelled by hand. */
export function addSettingOptions(command: Command, schema: SettingsSchema): Command {
  for (const s of schema.settings()) {
    const help = `${s.doc}${defaultNote(s)}`;
    if (s.type === 'boolean') command.option(s.flag, help);
    else if (s.type === 'plugins')
      command.option(`${s.flag} <${argName(s)}>`, help, (v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    else command.option(`${s.flag} <${argName(s)}>`, help);
  }
  return command;
}

function argName(s: Setting): string {
  return (s.arg ?? 'value').toLowerCase();
}

function defaultNote(s: Setting): string {
  if (s.default === undefined) return '';
  const v: SettingValue = s.default;
  return ` (default ${Array.isArray(v) ? v.join(', ') : s.type === 'duration' && typeof v === 'number' ? duration(v) : String(v)})`;
}

/** 86400 → `24h`, as an operator would write it. */
function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}
