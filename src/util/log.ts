import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogFormat } from './log-settings.js';

export interface LoggerOptions {
  /** `evident-server`: the `service` field of JSON lines (text lines leave it out: one process, one service). */
  service: string;
  level: string;
  /** Unset: text when `stream` (by default fd 2) is a terminal, else json. */
  format?: LogFormat;
  /** Where lines go; by default stderr, written synchronously so the last lines before an exit are kept. */
  stream?: { write(line: string): unknown; isTTY?: boolean };
}

/** The logger of a long-running command; stdout stays for results. */
export function createLogger(o: LoggerOptions): Logger {
  const format = o.format ?? (o.stream ? (o.stream.isTTY === true ? 'text' : 'json') : isatty(2) ? 'text' : 'json');
  const destination: DestinationStream = o.stream ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level: o.level,
      base: { service: o.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      // `"level":"info"` rather than pino's 30: what log collectors and people search for
      formatters: { level: (label) => ({ level: label }) },
      ...(format === 'text' ? { hooks: { streamWrite: textLine } } : {}),
    },
    destination,
  );
}

/** A logger that drops everything (library use, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Fields every line has; the text form shows them in front rather than as `key=value`. */
const FRONT = new Set(['time', 'level', 'msg', 'service']);

/**
 * One JSON line as pino wrote it, as text: time, level, message, then the other fields as `key=value`,
 * values quoted only when they would be ambiguous. An error field shows its message; its stack stays
 * in the JSON form.
 */
export function textLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = String(rec.level ?? '').toUpperCase();
  const fields = Object.entries(rec)
    .filter(([k]) => !FRONT.has(k))
    .map(([k, v]) => `${k}=${textValue(v)}`);
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  return `${[String(rec.time ?? ''), level.padEnd(5), msg, ...fields].filter((p) => p !== '').join(' ')}\n`;
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=\\]+$/.test(v) ? v : JSON.stringify(v);
  if (isErrorRecord(v)) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

/** pino's err serializer output: `{type, message, stack}`. */
function isErrorRecord(v: unknown): v is { message: string; stack?: string } {
  return typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string' && 'stack' in v;
}
