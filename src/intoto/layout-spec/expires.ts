import { formatExpires } from '../models/expires.js';

const UNIT_MS: Record<string, number> = { w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000 };
/** The last instant the reference's `YYYY-MM-DDTHH:MM:SSZ` form can write (a Date goes further). */
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59);
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$/;

/**
 * A spec's `expires`: a duration from `now` (`90d`, `12h`, `2w`, `1d12h`; units w, d, h, m) or an
 * RFC 3339 date (`2027-01-31`, midnight UTC) or date-time with a zone (`2027-01-31T12:00:00+02:00`),
 * returned in the reference's `YYYY-MM-DDTHH:MM:SSZ` form, in UTC, fractions of a second dropped.
 * Returns a string describing the problem instead, when there is one.
 */
export function compileExpires(text: string, now: Date): { expires: string } | { problem: string } {
  const trimmed = text.trim();
  const ms = durationMs(trimmed);
  if (ms !== undefined) {
    if (ms === 0) return { problem: 'a duration of zero would expire the layout at once' };
    return within(now.getTime() + ms, trimmed);
  }
  const m = RFC3339.exec(trimmed);
  if (m) {
    const date = new Date(m[4] === undefined ? `${trimmed}T00:00:00Z` : trimmed.replace(' ', 'T'));
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const real =
      !Number.isNaN(date.getTime()) && Number(m[4] ?? 0) < 24 && Number(m[5] ?? 0) < 60 && Number(m[6] ?? 0) < 60 && sameDay(y, mo, d);
    if (real) {
      if (date.getTime() <= now.getTime()) return { problem: `${trimmed} is in the past` };
      return within(date.getTime(), trimmed);
    }
    return { problem: `${JSON.stringify(trimmed)} is not a real date` };
  }
  return { problem: `${JSON.stringify(trimmed)} is neither a duration (90d, 12h) nor an RFC 3339 date (2027-01-31, 2027-01-31T12:00:00Z)` };
}

/** A duration as a spec writes one (`90d`, `12h`, `2w`, `1d12h`; units w, d, h, m) in milliseconds; undefined when `text` is none. */
export function durationMs(text: string): number | undefined {
  if (!/^(\d+[wdhm])+$/.test(text)) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([wdhm])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms;
}

/** `expires` for an instant the reference can write; a duration of 999999999d overflows even a Date. */
function within(ms: number, text: string): { expires: string } | { problem: string } {
  if (!(ms <= LATEST)) return { problem: `${text} is too far in the future (after 9999-12-31)` };
  return { expires: formatExpires(new Date(ms)) };
}

function sameDay(y: number, mo: number, d: number): boolean {
  const probe = new Date(Date.UTC(y, mo - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === mo - 1 && probe.getUTCDate() === d;
}

/** The reference's default when no expiry is given: one calendar month from now. */
export function defaultExpires(now: Date): string {
  const date = new Date(now.getTime());
  const day = date.getUTCDate();
  date.setUTCMonth(date.getUTCMonth() + 1);
  // relativedelta clamps Jan 31 + 1 month to Feb 28/29 instead of rolling into March
  if (date.getUTCDate() !== day) date.setUTCDate(0);
  return formatExpires(date);
}
