import { pino } from 'pino';

export type Logger = pino.Logger;

/** JSON logs; human-readable when a person is watching the terminal. */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  const pretty = process.stdout.isTTY && process.env.LOG_FORMAT !== 'json';
  return pino({
    level,
    transport: pretty
      ? { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } }
      : undefined,
  });
}
