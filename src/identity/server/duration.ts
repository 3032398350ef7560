import { badInput } from '../../errors.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** An upper bound for a duration, and how to say it (`one year`). */
export interface DurationLimit {
  seconds: number;
  name: string;
}

/**
 * Parses a duration in seconds: a plain number (`600`) or a number with a unit (`90s`, `5m`, `1h`,
 * `1d`). `what` names the setting in the error message. Durations past `max` (given), or too large to
 * count exactly, are refused: they end in dates no clock can show.
 */
export function parseDurationSeconds(value: string | number, what: string, max?: DurationLimit): number {
  let seconds: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value <= 0) throw badInput(`${what}: must be a positive whole number of seconds`);
    seconds = value;
  } else {
    const m = /^(\d+)([smhd]?)$/.exec(value.trim());
    if (!m) throw badInput(`${what}: '${value}' is not a duration (e.g. 600, 90s, 5m, 1h, 1d)`);
    seconds = Number(m[1]) * UNITS[m[2] === '' ? 's' : m[2]!]!;
    if (seconds <= 0) throw badInput(`${what}: must be positive`);
  }
  if (max !== undefined && seconds > max.seconds) throw badInput(`${what}: at most ${max.seconds} seconds (${max.name}), not ${value}`);
  if (!Number.isSafeInteger(seconds)) throw badInput(`${what}: ${value} is too long a duration`);
  return seconds;
}
