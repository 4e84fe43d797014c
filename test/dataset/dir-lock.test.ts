import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { lockDirectory } from '../../src/db/dir-lock.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('one holder at a time; released, it can be taken again', () => {
  const file = path.join(dir, 'db.lock');
  const unlock = lockDirectory(file);
  expect(() => lockDirectory(file)).toThrow(`in use by process ${process.pid}`);
  unlock();
  lockDirectory(file)();
});

test('a lock left by a process that is gone is taken over', () => {
  const file = path.join(dir, 'db.lock');
  // pid_max on Linux is at most 2^22: no process has this pid
  writeFileSync(file, String(2 ** 22 + 1));
  const unlock = lockDirectory(file);
  unlock();
});
