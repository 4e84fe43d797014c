import { type ChildProcess, spawn } from 'node:child_process';
import { repoRoot } from './databases.ts';

export type ChildServer = {
  child: ChildProcess;
  /** Its GraphQL URL, once it listens. */
  ready: Promise<string>;
  exited: Promise<number | null>;
  output(): string;
};

/** Runs `npm start`'s entry point as a child process, resolving with its URL once ready. */
export function startChild(env: Record<string, string>): ChildServer {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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
