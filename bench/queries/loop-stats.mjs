// Preloaded into the server by bench/queries (`node --import`): on SIGUSR2 the main thread prints
// one `loop-stats {json}` line (event-loop delay percentiles, GC pauses by kind, the embedded
// database's synchronous calls, the thread's CPU time since the last print) and starts counting
// afresh, so that each wrk run gets its own figures.
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const KINDS = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  let gc = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = KINDS[entry.detail?.kind] ?? 'other';
      gc[kind] ??= { count: 0, ms: 0, maxMs: 0 };
      const seen = gc[kind];
      seen.count += 1;
      seen.ms += entry.duration;
      seen.maxMs = Math.max(seen.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  // PGlite runs each statement on this thread, blocking it: its calls, their time, the slowest
  // statements (the first words of their SQL).
  const { PGlite } = await import('@electric-sql/pglite');
  let pglite = { calls: 0, ms: 0, maxMs: 0 };
  let statements = new Map();
  const execSync = PGlite.prototype.execProtocolRawSync;
  PGlite.prototype.execProtocolRawSync = function (message, ...rest) {
    const start = performance.now();
    try {
      return execSync.call(this, message, ...rest);
    } finally {
      const took = performance.now() - start;
      pglite.calls += 1;
      pglite.ms += took;
      pglite.maxMs = Math.max(pglite.maxMs, took);
      // the first bytes only: a message can hold megabytes of parameters
      const text = Buffer.from(
        message.buffer,
        message.byteOffset,
        Math.min(message.byteLength, 200),
      )
        .toString('latin1')
        .replace(/[^\x20-\x7e]+/g, ' ')
        .trim()
        .slice(0, 70);
      const seen = statements.get(text) ?? { calls: 0, ms: 0, maxMs: 0 };
      seen.calls += 1;
      seen.ms += took;
      seen.maxMs = Math.max(seen.maxMs, took);
      statements.set(text, seen);
    }
  };
  const round = ({ ms, maxMs, ...counts }) => ({
    ...counts,
    ms: Math.round(ms),
    maxMs: Math.round(maxMs),
  });
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  // This thread's own CPU time (Node >= 23.9): unlike throughput, hardly moved by other
  // processes on the machine, so A/B comparisons hold on a busy machine too.
  const cpuNow = () => {
    const usage = process.threadCpuUsage?.();
    return usage ? usage.user + usage.system : undefined;
  };
  let cpuAtReset = cpuNow();
  process.on('SIGUSR2', () => {
    const cpu = cpuNow();
    const stats = {
      ...(cpu === undefined ? {} : { cpuMs: Math.round((cpu - cpuAtReset) / 1000) }),
      loopDelayMs: {
        p50: ms(delay.percentile(50)),
        p99: ms(delay.percentile(99)),
        max: ms(delay.max),
      },
      gc: Object.fromEntries(Object.entries(gc).map(([kind, o]) => [kind, round(o)])),
      pglite: {
        ...round(pglite),
        slowest: [...statements]
          .sort((a, b) => b[1].ms - a[1].ms)
          .slice(0, 6)
          .map(([sql, o]) => ({ sql, ...round(o) })),
      },
    };
    process.stdout.write(`loop-stats ${JSON.stringify(stats)}\n`);
    delay.reset();
    cpuAtReset = cpu;
    gc = {};
    pglite = { calls: 0, ms: 0, maxMs: 0 };
    statements = new Map();
  });
}
