import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/**
 * Prints the JavaScript a browser loads for `/` (the entry chunk and its static imports, gzip
 * compressed, as the server sends it) and fails the build above the budget.
 */
export function firstLoadBudget(maxGzipBytes: number): Plugin {
  return {
    name: 'first-load-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      const entry = Object.values(bundle).find((c) => c.type === 'chunk' && c.isEntry);
      if (entry?.type !== 'chunk') return;
      const seen = new Set<string>();
      const visit = (fileName: string) => {
        if (seen.has(fileName)) return;
        seen.add(fileName);
        const chunk = bundle[fileName];
        if (chunk?.type === 'chunk') chunk.imports.forEach(visit);
      };
      visit(entry.fileName);
      let total = 0;
      for (const fileName of seen) {
        const chunk = bundle[fileName];
        if (chunk?.type !== 'chunk') continue;
        const size = gzipSync(chunk.code).byteLength;
        total += size;
        this.info(`first load: ${fileName} ${(size / 1024).toFixed(1)} KB gzip`);
      }
      const summary = `first load of /: ${(total / 1024).toFixed(1)} KB of JavaScript gzip-compressed (budget ${(maxGzipBytes / 1024).toFixed(0)} KB)`;
      if (total > maxGzipBytes) this.error(summary);
      console.log(summary);
    },
  };
}
