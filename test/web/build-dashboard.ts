import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/databases.ts';

const web = path.join(repoRoot, 'web');
const SOURCES = [
  path.join(web, 'src'),
  path.join(web, 'public'),
  path.join(web, 'index.html'),
  path.join(web, 'vite.config.ts'),
  path.join(repoRoot, 'schema.graphql'),
];

function newestMtime(entry: string): number {
  const stat = statSync(entry, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return /\.test\.tsx?$/.test(entry) ? 0 : stat.mtimeMs;
  return Math.max(
    stat.mtimeMs,
    ...readdirSync(entry).map((name) => newestMtime(path.join(entry, name))),
  );
}

/**
 * Global setup: the end-to-end tests drive the built dashboard (`npm ci` builds it); rebuild it
 * once per run when a source is newer, so that no test passes on a stale build.
 */
export default function buildDashboard() {
  const built = statSync(path.join(web, 'dist', 'index.html'), { throwIfNoEntry: false });
  if (built && built.mtimeMs >= Math.max(...SOURCES.map(newestMtime))) return;
  // vitest sets NODE_ENV=test, which would make Vite bundle React's development build
  execFileSync('npm', ['run', 'build', '-w', 'web'], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
}
