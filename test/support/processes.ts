import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { vi } from 'vitest';
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

/**
 * The process group of a process that still runs, or null. Zombies do not count: they are dead,
 * waiting for init (slow in some containers) to collect them.
 */
async function runningGroup(pid: string): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
  const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return stat && state !== 'Z' && state !== 'X' ? Number(group) : null;
}

/**
 * Waits until `running` finds nothing left. A killed process closes its pipes (which settles a
 * wait for it) a moment before it becomes a zombie, so it may still show as running at first.
 */
function untilGone(what: string, running: () => Promise<boolean>): Promise<void> {
  return vi.waitFor(
    async () => {
      if (await running()) throw new Error(`${what} still runs`);
    },
    { timeout: 5_000, interval: 10 },
  );
}

/** Waits until the process `pid` is gone. */
export function processGone(pid: number): Promise<void> {
  return untilGone(`process ${pid}`, async () => (await runningGroup(String(pid))) !== null);
}

/** Waits until no process of the group `pgid` runs. */
export function groupGone(pgid: number | undefined): Promise<void> {
  if (!pgid) throw new Error('the process never started');
  return untilGone(`a process of group ${pgid}`, async () => {
    for (const entry of await readdir('/proc')) {
      if (/^\d+$/.test(entry) && (await runningGroup(entry)) === pgid) return true;
    }
    return false;
  });
}
