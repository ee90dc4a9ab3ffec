/**
 * The logger every component takes by injection (never a global): pino, JSON lines on stderr.
 * Tests pass `silentLogger`; the CLI makes one from `--verbose` / `DUALRUN_LOG_LEVEL`.
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error' | 'child'>;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export function createLogger(level: LogLevel = 'warn'): Logger {
  return pino({ level, base: { app: 'dualrun' } }, pino.destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
