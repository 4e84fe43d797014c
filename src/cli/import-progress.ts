import type { ImportProgress } from '../dataset/import.ts';

export type ProgressOptions = {
  /** Size of the input, for the percentage. */
  totalBytes: number;
  /** Bytes read so far. */
  bytesRead: () => number;
  /** A terminal gets a bar redrawn in place; anything else a plain line now and then. */
  tty: boolean;
  write: (text: string) => void;
  /** Lines between two plain progress lines. */
  every?: number;
};

const BAR_WIDTH = 30;
const fmt = (n: number) => n.toLocaleString('en-US');

/** Renders import progress for people (a bar) or for logs (a line every `every` lines). */
export function progressReporter({
  totalBytes,
  bytesRead,
  tty,
  write,
  every = 10_000,
}: ProgressOptions) {
  const started = performance.now();
  let nextLine = every;
  const describe = (p: ImportProgress) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round((p.added + p.skipped) / seconds) : 0;
    return `${fmt(p.lines)} lines: ${fmt(p.added)} added, ${fmt(p.skipped)} skipped, ${fmt(p.rejected)} rejected (${fmt(rate)} docs/s)`;
  };
  return {
    update(p: ImportProgress) {
      if (tty) {
        const share = totalBytes > 0 ? Math.min(1, bytesRead() / totalBytes) : 1;
        const filled = Math.round(share * BAR_WIDTH);
        const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
        write(`\r\x1b[2K${bar} ${Math.floor(share * 100)}%  ${describe(p)}`);
      } else if (p.lines >= nextLine) {
        write(`progress: ${describe(p)}\n`);
        nextLine = (Math.floor(p.lines / every) + 1) * every;
      }
    },
    /** Ends the bar's line, so that what follows starts on a fresh one. */
    done() {
      if (tty) write('\n');
    },
  };
}
