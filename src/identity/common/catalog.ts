import { EvidentError } from '../../errors.js';
import type { ChosenPlugin, PluginSettings, PluginSource, SettingSpec } from '../../util/settings.js';
import { Registry } from './registry.js';
import type { SelectorKind } from './selectors.js';

/**
 * A catalog entry (SPIRE's `catalog`): the settings a plugin takes and how to build it from them and
 * from what its side hands every plugin (`Ctx`: the server's datastore and clock, say). A plugin's file
 * exports its entry; the side's catalog file registers it in one line.
 */
export interface Plugin<Ctx, T> {
  /** Its settings, under its name in the config file's section; each also gets a flag and an env var. */
  readonly settings: readonly SettingSpec[];
  /** An attestor's: the kinds of selector it produces (`evident agent selectors`, entry checks). */
  readonly selectors?: readonly SelectorKind[];
  build(settings: PluginSettings, ctx: Ctx): T | Promise<T>;
}

/** The plugins of one kind that configuration may choose by name. */
export class Catalog<Ctx, T> extends Registry<Plugin<Ctx, T>> implements PluginSource {
  settingsOf(name: string): readonly SettingSpec[] {
    return this.require(name).settings;
  }

  /** The kinds of selector the plugin `name` produces (none for a plugin that is not an attestor). */
  selectorsOf(name: string): readonly SelectorKind[] {
    return this.require(name).selectors ?? [];
  }

  /** Plugins chosen by name alone, their settings at their defaults: what a library caller gets without configuration. */
  withDefaults(names: readonly string[]): ChosenPlugin[] {
    return names.map((name) => {
      const specs = this.settingsOf(name);
      const missing = specs.find((s) => s.required && s.default === undefined);
      if (missing) throw new EvidentError('BAD_USAGE', `${this.what} '${name}' cannot run without its setting '${missing.name}'`);
      return { name, settings: Object.fromEntries(specs.map((s) => [s.name, s.default])) };
    });
  }

  /** Builds one chosen plugin. */
  async buildOne(chosen: ChosenPlugin, ctx: Ctx): Promise<T> {
    return this.require(chosen.name).build(chosen.settings, ctx);
  }

  /** Builds the chosen plugins, in the order chosen. */
  async build(chosen: readonly ChosenPlugin[], ctx: Ctx): Promise<T[]> {
    const out: T[] = [];
    for (const c of chosen) out.push(await this.buildOne(c, ctx));
    return out;
  }
}
