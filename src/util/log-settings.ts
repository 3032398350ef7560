import { badInput } from '../errors.js';

/**
 * How a long-running command (`evident server run`, `evident agent run`) logs on stderr: `text`, one
 * line a person reads (`2026-05-01T12:00:00.000Z INFO  server ready bind=127.0.0.1:8081`), or `json`,
 * one object a line for a log collector. Both carry ISO-8601 UTC times. Unset, the format follows where
 * stderr goes: text on a terminal, json otherwise (a file, a pipe, a service manager's journal).
 */
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
export const LOG_LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * The `log_level` and `log_format` settings of a command, checked (pino would throw its own message from
 * deep inside for a bad level); `where(name)` says how the setting is given, for the message.
 */
export function logSettings(
  level: string,
  format: string | undefined,
  where: (name: string) => string,
): { logLevel: string; logFormat?: LogFormat } {
  if (!LOG_LEVELS.includes(level))
    throw badInput(`log level must be one of ${LOG_LEVELS.join(', ')}, not '${level}' (${where('log_level')})`);
  if (format === undefined) return { logLevel: level };
  if (!(LOG_FORMATS as readonly string[]).includes(format))
    throw badInput(`log format must be ${LOG_FORMATS.join(' or ')}, not '${format}' (${where('log_format')})`);
  return { logLevel: level, logFormat: format as LogFormat };
}
