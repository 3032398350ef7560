import { pino, type Logger } from 'pino';

/** The server's structured JSON log on stderr (stdout stays for results). Synchronous so no line is lost on exit. */
export function createServerLogger(level: string): Logger {
  return pino({ level, base: { service: 'evident-server' } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (library use, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
