import type { Logger } from '../../../logger.ts';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];

const isLevel = (value: unknown): value is Level =>
  typeof value === 'string' && (LEVELS as readonly string[]).includes(value);

/**
 * What a trainer or model process writes to stderr, into the server's log: a JSON object with a
 * `level` and a string `msg` (the kit's structured lines) at that level with its `fields`, any
 * other line at `info` as it is.
 */
export function logStderrLine(log: Logger, line: string): void {
  if (line.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = null;
    }
    if (typeof parsed === 'object' && parsed !== null) {
      const { level, msg, fields } = parsed as Record<string, unknown>;
      if (isLevel(level) && typeof msg === 'string') {
        log[level](fields === undefined ? {} : { fields }, msg);
        return;
      }
    }
  }
  log.info(line);
}
