import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { badInput, EvidentError } from '../errors.js';
import { unixSocketPath } from './unix-socket.js';

/**
 * How a setting is read, wherever it comes from:
 * - `string`: text (a number in a file is taken as its text);
 * - `path`: a file or folder, relative to the config file when given there, else to the working directory;
 * - `socket`: a Unix socket, a path as `path` is or a `unix:///path` URI (util/unix-socket.ts);
 * - `duration`: seconds, or text with a unit (`90s`, `5m`, `1h`); its owner parses it;
 * - `boolean`: a flag without a value; `true`/`false` (or 1/0, yes/no) in a file or the environment;
 * - `plugin`, `plugins`: the name (names) of plugins of a catalog; in a config file also a mapping of
 *   each name to that plugin's settings (`node_attestors: {x509pop: {ca_bundle: ca.pem}}`).
 */
export type SettingType = 'string' | 'path' | 'socket' | 'duration' | 'boolean' | 'plugin' | 'plugins';
export type SettingValue = string | number | boolean | readonly string[];
/** Settings from one source (flags, a file, the environment), by name. */
export type SettingLayer = Record<string, SettingValue>;
/** A plugin's resolved settings, by their names in its section (`ca_bundle`). */
export type PluginSettings = Readonly<Record<string, SettingValue | undefined>>;

/** What a `plugin`/`plugins` setting chooses from: a catalog of plugins and the settings each takes. */
export interface PluginSource {
  /** The kind of plugin in messages: `node attestor`. */
  readonly what: string;
  names(): string[];
  settingsOf(name: string): readonly SettingSpec[];
}

/** One setting, described once: flags, file keys, environment variables and messages are derived from it. */
export interface SettingSpec {
  /** Its key in a config file, snake_case; the flag is the name in kebab-case, the env var the prefix and the name upper-cased. */
  readonly name: string;
  readonly type: SettingType;
  /** What it is, for `--help`. */
  readonly doc: string;
  /** The flag's value in messages and help: `HOST:PORT`. */
  readonly arg?: string;
  readonly default?: SettingValue;
  /** It has no default and must be given (`--help` says so); for a plugin's setting, whenever that plugin is chosen. */
  readonly required?: boolean;
  /** A plugin's setting only: its name outside the plugin's section when not `<plugin>_<name>` (join_token's `token` is `--join-token`). */
  readonly flatName?: string;
  /** `plugin`/`plugins` only: the catalog the names are looked up in. */
  readonly plugins?: PluginSource;
}

/** A setting with its derived spellings. */
export interface Setting extends SettingSpec {
  /** `--trust-domain`; a `plugins` setting is given once per name, so its flag is singular: `--node-attestor`. */
  readonly flag: string;
  /** The flag's key in parsed options (camelCase, as commander makes it): `trustDomain`. */
  readonly attribute: string;
  readonly env: string;
  /** Where it goes in a config file: `trust_domain`, `node_attestors.x509pop.ca_bundle`. */
  readonly fileKey: string;
  /** A plugin's setting: the setting choosing the plugin, the plugin, and its key in the plugin's section. */
  readonly owner?: { readonly choice: Setting; readonly plugin: string; readonly key: string };
}

/** A plugin chosen by configuration, with its settings (defaults applied, paths absolute). */
export interface ChosenPlugin {
  readonly name: string;
  readonly settings: PluginSettings;
}

const kebab = (name: string): string => name.replace(/_/g, '-');
const camel = (flag: string): string => flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The settings of one command (`evident server run`, `evident agent run`), described once. Each source is
 * read into a layer by the same rules, and layers resolve flags over file over environment over defaults
 * (docs/ARCHITECTURE.md, CLI contract). Plugins' settings are settings too: the catalog says which there
 * are, so a new plugin's settings have a flag, a file key and an env var without anything else to write.
 */
export class SettingsSchema {
  constructor(
    /** `EVIDENT_SERVER_` */
    readonly envPrefix: string,
    private readonly specs: readonly SettingSpec[],
  ) {}

  /**
   * Every setting, plugins' included (flattened to `<plugin>_<name>`). Derived on each call: a plugin
   * registered in a catalog after this schema was made is known too.
   */
  settings(): Setting[] {
    const out: Setting[] = [];
    for (const spec of this.specs) {
      const choice = this.derive(spec, spec.name);
      out.push(choice);
      if (spec.plugins === undefined) continue;
      for (const plugin of spec.plugins.names()) {
        for (const ps of spec.plugins.settingsOf(plugin)) {
          const flat = ps.flatName ?? `${plugin}_${ps.name}`;
          out.push({ ...this.derive(ps, flat), fileKey: `${spec.name}.${plugin}.${ps.name}`, owner: { choice, plugin, key: ps.name } });
        }
      }
    }
    return out;
  }

  private derive(spec: SettingSpec, name: string): Setting {
    const flag = `--${kebab(spec.type === 'plugins' ? name.replace(/s$/, '') : name)}`;
    return { ...spec, name, flag, attribute: camel(flag), env: `${this.envPrefix}${name.toUpperCase()}`, fileKey: name };
  }

  setting(name: string): Setting {
    const s = this.settings().find((x) => x.name === name);
    if (s === undefined) throw new EvidentError('INTERNAL', `no setting '${name}'`);
    return s;
  }

  /** Each setting's default, by name. */
  defaults(): Record<string, SettingValue> {
    return Object.fromEntries(this.settings().flatMap((s) => (s.default === undefined || s.owner ? [] : [[s.name, s.default]])));
  }

  /** The three ways to give a setting, for messages: `--data-dir DIR, data_dir in the config file, or EVIDENT_SERVER_DATA_DIR`. */
  where(name: string): string {
    const s = this.setting(name);
    return `${flagWithArg(s)}, ${s.fileKey} in the config file, or ${s.env}`;
  }

  /** Settings from `<prefix><NAME>` variables; empty ones count as unset. */
  fromEnv(env: NodeJS.ProcessEnv): SettingLayer {
    const out: SettingLayer = {};
    for (const s of this.settings()) {
      const v = env[s.env];
      if (v === undefined || v === '') continue;
      if (s.type === 'plugins' || s.type === 'plugin')
        out[s.name] = v
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '');
      else if (s.type === 'boolean') out[s.name] = parseBoolean(v, s.env);
      else out[s.name] = v;
    }
    return out;
  }

  /** Settings from parsed flags (keys as `Setting.attribute`); absent flags are unset. */
  fromFlags(options: Readonly<Record<string, unknown>>): SettingLayer {
    const out: SettingLayer = {};
    for (const s of this.settings()) {
      const v = options[s.attribute];
      if (v === undefined) continue;
      if (s.type === 'plugin' && typeof v === 'string') out[s.name] = [v];
      else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || isStringList(v)) out[s.name] = v;
      else throw new EvidentError('INTERNAL', `flag ${s.flag}: unexpected value ${String(v)}`);
    }
    return out;
  }

  /**
   * Settings from a JSON or YAML file (YAML is a superset of JSON; one parser reads both). Unknown keys
   * are refused, so a typo is an error rather than a silently ignored setting; relative paths are
   * relative to the file.
   */
  async fromFile(file: string): Promise<SettingLayer> {
    const text = await readFile(file, 'utf8');
    // loaded here, not at the top: every command that merely lists these settings (`--help`) would pay for it
    const { parse: parseYaml } = await import('yaml');
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw badInput(`not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`, file);
    }
    return this.fromDocument(doc, file);
  }

  fromDocument(doc: unknown, file: string): SettingLayer {
    if (doc === null || doc === undefined) return {};
    if (!isMapping(doc)) throw badInput('config must be a mapping of settings', file);
    const all = this.settings();
    const top = new Map(all.map((s) => [s.name, s]));
    const out: SettingLayer = {};
    const put = (s: Setting, v: SettingValue): void => {
      if (out[s.name] !== undefined) throw badInput(`setting '${s.name}' is given twice (also as ${s.fileKey})`, file);
      out[s.name] = v;
    };
    for (const [key, value] of Object.entries(doc)) {
      const s = top.get(key);
      if (s === undefined) throw badInput(`unknown setting '${key}' (known: ${[...top.keys()].join(', ')})`, file);
      if (s.type !== 'plugin' && s.type !== 'plugins') {
        put(s, fileValue(s, key, value, file));
        continue;
      }
      const { names, sections } = pluginsInFile(s, value, file);
      put(s, names);
      for (const [plugin, section] of sections) {
        const own = all.filter((x) => x.owner?.choice.name === s.name && x.owner.plugin === plugin);
        for (const [k, v] of Object.entries(section)) {
          const ps = own.find((x) => x.owner!.key === k);
          if (ps === undefined) {
            const known = own.length ? `known: ${own.map((x) => x.owner!.key).join(', ')}` : 'it takes none';
            throw badInput(`unknown setting '${k}' of ${s.plugins!.what} '${plugin}' (${known})`, file);
          }
          put(ps, fileValue(ps, `${key}.${plugin}.${k}`, v, file));
        }
      }
    }
    return out;
  }

  /** Flags over file over environment over defaults; relative paths from flags and the environment are relative to `cwd`. */
  resolve(layers: { flags: SettingLayer; file: SettingLayer; env: SettingLayer }, cwd: string): ResolvedSettings {
    const given = (s: Setting): SettingValue | undefined => layers.flags[s.name] ?? layers.file[s.name] ?? layers.env[s.name];
    const value = (s: Setting): SettingValue | undefined => {
      const v = given(s) ?? s.default;
      if (v === undefined) return v;
      if (s.type === 'path') return resolve(cwd, String(v));
      return s.type === 'socket' ? unixSocketPath(String(v), cwd) : v;
    };
    const all = this.settings();
    const values = new Map<string, SettingValue>();
    const chosen = new Map<string, ChosenPlugin[]>();
    for (const s of all) {
      if (s.owner) continue;
      if (s.plugins === undefined) {
        const v = value(s);
        if (v !== undefined) values.set(s.name, v);
        continue;
      }
      const own = all.filter((x) => x.owner?.choice.name === s.name);
      // a plugin's boolean set to false (`EVIDENT_SERVER_TPM=false`) does not turn the plugin on
      const names = choosePlugins(
        s,
        given(s),
        own.filter((x) => given(x) !== undefined && given(x) !== false).map((x) => x.owner!.plugin),
      );
      chosen.set(
        s.name,
        names.map((plugin) => {
          const settings: Record<string, SettingValue | undefined> = {};
          const mine = own.filter((x) => x.owner!.plugin === plugin);
          for (const ps of mine) {
            settings[ps.owner!.key] = value(ps);
            if (ps.required && settings[ps.owner!.key] === undefined) throw missingPluginSetting(s, plugin, ps, mine, given);
          }
          return { name: plugin, settings };
        }),
      );
    }
    return new ResolvedSettings(values, chosen);
  }
}

/** A resolved configuration: each setting's value (defaults applied, paths absolute) and the plugins chosen. */
export class ResolvedSettings {
  constructor(
    private readonly values: ReadonlyMap<string, SettingValue>,
    private readonly chosen: ReadonlyMap<string, readonly ChosenPlugin[]>,
  ) {}

  value(name: string): SettingValue | undefined {
    return this.values.get(name);
  }

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return v === undefined ? undefined : String(v);
  }

  boolean(name: string): boolean {
    return this.values.get(name) === true;
  }

  /** The plugins a `plugin`/`plugins` setting chose, in order. */
  plugins(name: string): readonly ChosenPlugin[] {
    const p = this.chosen.get(name);
    if (p === undefined) throw new EvidentError('INTERNAL', `no plugin setting '${name}'`);
    return p;
  }
}

/** `unknown node attestor 'nope' (known: join_token, x509pop)`: one line, exit 2, wherever a name is looked up. */
export function unknownName(what: string, name: string, known: readonly string[]): EvidentError {
  return new EvidentError('BAD_USAGE', `unknown ${what} '${name}' (known: ${known.join(', ')})`);
}

/** `--server HOST:PORT`, `--insecure-bootstrap`. */
export function flagWithArg(s: Setting): string {
  return s.type === 'boolean' || s.arg === undefined ? s.flag : `${s.flag} ${s.arg}`;
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function parseBoolean(v: string, where: string, file?: string): boolean {
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw badInput(`${where}: '${v}' is not true or false`, file);
}

function fileValue(s: Setting, key: string, v: unknown, file: string): SettingValue {
  switch (s.type) {
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' || typeof v === 'number') return parseBoolean(String(v), `setting '${key}'`, file);
      throw badInput(`setting '${key}' must be true or false`, file);
    case 'duration':
      if (typeof v === 'string' || typeof v === 'number') return v;
      throw badInput(`setting '${key}' must be a string or a number`, file);
    default: {
      if (typeof v !== 'string' && typeof v !== 'number') throw badInput(`setting '${key}' must be a string or a number`, file);
      const text = String(v);
      if (s.type === 'socket') return unixSocketPath(text, dirname(file));
      return s.type === 'path' && !isAbsolute(text) ? resolve(dirname(file), text) : text;
    }
  }
}

/** A plugin choice in a file: a name, a list of names, or a mapping of names to their settings (or nothing). */
function pluginsInFile(s: Setting, v: unknown, file: string): { names: string[]; sections: [string, Record<string, unknown>][] } {
  const source = s.plugins!;
  const known = (name: string): string => {
    if (!source.names().includes(name)) throw unknownName(source.what, name, source.names()).inFile(file);
    return name;
  };
  if (typeof v === 'string') return { names: [known(v)], sections: [] };
  if (isStringList(v)) return { names: v.map(known), sections: [] };
  if (!isMapping(v)) {
    throw badInput(`setting '${s.name}' must name ${source.what}s: a name, a list of names, or a mapping of names to their settings`, file);
  }
  const sections: [string, Record<string, unknown>][] = [];
  for (const [name, section] of Object.entries(v)) {
    known(name);
    if (section === null || section === undefined) continue;
    if (!isMapping(section)) throw badInput(`setting '${s.name}.${name}' must be a mapping of the ${source.what}'s settings`, file);
    sections.push([name, section]);
  }
  return { names: Object.keys(v), sections };
}

/**
 * Which plugins run: the names the highest layer gives; else the default ones and every plugin whose
 * settings are given (so `--x509pop-ca-bundle FILE` alone turns x509pop on, as it always did).
 */
function choosePlugins(s: Setting, explicit: SettingValue | undefined, withSettings: readonly string[]): string[] {
  const source = s.plugins!;
  const list =
    explicit === undefined ? undefined : typeof explicit === 'string' ? [explicit] : isStringList(explicit) ? explicit : undefined;
  if (explicit !== undefined && list === undefined) throw badInput(`setting '${s.name}' must name ${source.what}s`);
  const defaults = isStringList(s.default) ? s.default : [];
  const names = [...new Set(list ?? [...defaults, ...withSettings])];
  for (const name of names) if (!source.names().includes(name)) throw unknownName(source.what, name, source.names());
  if (s.type === 'plugin' && names.length > 1) {
    const those = names.length === 2 ? `both ${names[0]} and ${names[1]}` : `all of ${names.join(', ')}`;
    const fix = list ? `${s.flag} NAME names one` : 'give the settings of one';
    throw new EvidentError('BAD_USAGE', `one ${source.what} at a time, not ${those}: ${fix}`);
  }
  return names;
}

/** `--x509pop-cert and --x509pop-key go together`, or what the plugin needs when none of its settings is given. */
function missingPluginSetting(
  choice: Setting,
  plugin: string,
  missing: Setting,
  mine: readonly Setting[],
  given: (s: Setting) => SettingValue | undefined,
): EvidentError {
  const required = mine.filter((x) => x.required);
  if (required.length > 1 && mine.some((x) => given(x) !== undefined)) {
    return new EvidentError('BAD_USAGE', `${required.map((x) => x.flag).join(' and ')} go together`);
  }
  return new EvidentError('BAD_USAGE', `${choice.plugins!.what} '${plugin}' needs ${flagWithArg(missing)} ${otherSpellings(missing)}`);
}

/** A setting's spellings besides its flag, for messages: `(or server in the config file, or EVIDENT_AGENT_SERVER)`. */
export function otherSpellings(s: Setting): string {
  return `(or ${s.fileKey} in the config file, or ${s.env})`;
}
