/**
 * `--NAME=X` among a benchmark's flags (bench/index.ts hands over the arguments that start with a dash): a
 * positive number, a whole one when `whole`; undefined when the flag is not given.
 */
export function numberFlag(flags: readonly string[], name: string, options: { whole?: boolean } = {}): number | undefined {
  const flag = flags.find((f) => f.startsWith(`${name}=`));
  if (flag === undefined) return undefined;
  const value = Number(flag.slice(name.length + 1));
  if (!(value > 0) || !Number.isFinite(value) || (options.whole === true && !Number.isSafeInteger(value))) {
    throw new Error(`${name} takes a positive ${options.whole === true ? 'whole ' : ''}number, not ${flag}`);
  }
  return value;
}
