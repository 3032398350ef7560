import type { Logger } from 'pino';
import { createLogger, silentLogger } from '../../util/log.js';
import type { LogFormat } from '../../util/log-settings.js';

/**
 * The server's log on stderr (stdout stays for results), written synchronously so no line is lost on
 * exit: text or JSON (unset: text on a terminal, JSON otherwise), ISO-8601 times (util/log.ts).
 */
export function createServerLogger(level: string, format?: LogFormat): Logger {
  return createLogger({ service: 'evident-server', level, ...(format ? { format } : {}) });
}

export { silentLogger };
