import type { Logger } from 'pino';
import { createLogger } from '../../util/log.js';
import type { LogFormat } from '../../util/log-settings.js';

/**
 * The agent's log on stderr, written synchronously so the last lines before an exit are kept: text or
 * JSON (unset: text on a terminal, JSON otherwise), ISO-8601 times (util/log.ts).
 */
export function createAgentLogger(level: string, format?: LogFormat): Logger {
  return createLogger({ service: 'evident-agent', level, ...(format ? { format } : {}) });
}
