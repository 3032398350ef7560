import { badInput } from '../../errors.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Parses a duration in seconds: a plain number (`600`) or a number with a unit (`90s`, `5m`, `1h`,
 * `1d`). `what` names the setting in the error message.
 */
export function parseDurationSeconds(value: string | number, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value <= 0) throw badInput(`${what}: must be a positive whole number of seconds`);
    return value;
  }
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!m) throw badInput(`${what}: '${value}' is not a duration (e.g. 600, 90s, 5m, 1h, 1d)`);
  const seconds = Number(m[1]) * UNITS[m[2] === '' ? 's' : m[2]!]!;
  if (seconds <= 0) throw badInput(`${what}: must be positive`);
  return seconds;
}
