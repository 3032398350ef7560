/**
 * A layout's `expires` in the only form the reference accepts: `YYYY-MM-DDTHH:MM:SSZ` (its
 * ISO8601_DATETIME_SCHEMA) that is also a real date and time (dateutil must parse it: no Feb 30th, no
 * hour 24, no leap second).
 */
const FORMAT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** What is wrong with `value` as an `expires`, or undefined if nothing. */
export function expiresProblem(value: string): string | undefined {
  const m = FORMAT.exec(value);
  if (!m) return `${JSON.stringify(value)} is not a date in the form YYYY-MM-DDTHH:MM:SSZ (UTC, no fractions)`;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return `${JSON.stringify(value)} is not a real date`;
  if (hour > 23 || minute > 59 || second > 59) return `${JSON.stringify(value)} is not a real time of day`;
  return undefined;
}

/** When `expires` is, as a Date (assumes it passed expiresProblem). */
export function parseExpires(value: string): Date {
  return new Date(value);
}

/** A Date in the reference's `%Y-%m-%dT%H:%M:%SZ` form (UTC, seconds truncated). */
export function formatExpires(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
