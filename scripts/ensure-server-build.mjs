// Rebuilds dist/ (`npm run build:server`) when a source is newer than the bundle: an edit or a
// pull since `npm ci`. `npm start` calls it, and so does the test run (vitest's global setup)
// before any test starts a server process, so that no two processes rebuild at once.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SERVER_BUNDLE = path.join(root, 'dist/server/main.mjs');

const mtime = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;

export default function ensureServerBuild() {
  const sources = [
    path.join(root, 'package-lock.json'),
    path.join(root, 'scripts/build-server.ts'),
    ...readdirSync(path.join(root, 'src'), { recursive: true }).map((file) =>
      path.join(root, 'src', file),
    ),
  ];
  const built = mtime(SERVER_BUNDLE);
  if (sources.every((file) => mtime(file) <= built)) return;
  // its report on stderr: stdout carries the server's log
  execFileSync('npm', ['run', '--silent', 'build:server'], { cwd: root, stdio: ['ignore', 2, 2] });
}
