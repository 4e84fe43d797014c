import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './databases.ts';

/**
 * `npm start` without npm: node, the flags its start script gives node (V8's heap growth), and
 * the compiled start (vitest's global setup rebuilds the bundle when a source is newer).
 */
export function startCommand(): string[] {
  const { scripts } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [node, ...args] = scripts.start.split(' ');
  if (node !== 'node') throw new Error(`npm start does not run node: ${scripts.start}`);
  return [process.execPath, ...args];
}

export type ChildServer = {
  child: ChildProcess;
  /** Its GraphQL URL, once it listens. */
  ready: Promise<string>;
  exited: Promise<number | null>;
  output(): string;
};

/** Runs the server as `npm start` does in a child process, resolving with its URL once ready. */
export function startChild(env: Record<string, string>): ChildServer {
  const [node, ...args] = startCommand();
  const child = spawn(node as string, args, {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      const match = output.match(/"url":"([^"]+)"/);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, ready, exited, output: () => output };
}

export async function stopChild(child: ChildProcess, exited: Promise<number | null>) {
  child.kill('SIGTERM');
  return exited;
}
