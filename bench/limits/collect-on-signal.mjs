// Preloaded into the benchmarked server (with --expose-gc): SIGUSR2 runs a full collection, so
// that the benchmark reads RSS without the garbage that start-up and earlier phases left.
process.on('SIGUSR2', () => globalThis.gc?.());
