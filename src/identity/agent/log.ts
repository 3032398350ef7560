import { pino, type Logger } from 'pino';

/** The agent's structured JSON log on stderr; synchronous so the last lines before an exit are kept. */
export function createAgentLogger(level: string): Logger {
  return pino({ level, base: { service: 'evident-agent' } }, pino.destination({ fd: 2, sync: true }));
}
