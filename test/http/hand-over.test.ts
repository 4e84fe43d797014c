import { readFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import path from 'node:path';
import { expect, test } from 'vitest';
import { HAND_OVER_VERIFIED_WITH, takeOverResponse } from '../../src/http/sse/hand-over.ts';
import { repoRoot } from '../support/databases.ts';

// The fast path relies on these libraries' stream handling (src/http/sse/hand-over.ts); the
// tests that follow streams across the hand-over are test/subscriptions-fast-path.test.ts.
test('the installed libraries are the versions the hand-over was verified with', () => {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  for (const [name, version] of Object.entries(HAND_OVER_VERIFIED_WITH)) {
    const installed = JSON.parse(
      readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8'),
    );
    expect({ name, version: installed.version }).toEqual({ name, version });
    expect({ name, pinned: manifest.dependencies[name] }).toEqual({ name, pinned: version });
  }
});

test('the take-over swallows the completion and leaves node its own write', () => {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  const written: unknown[] = [];
  // as the library path's backlog check wraps it (event-stream-limits.ts)
  res.write = ((chunk: unknown) => written.push(chunk) > 0) as ServerResponse['write'];
  let attached = 0;
  expect(takeOverResponse(res, () => (attached += 1))).toBe(true);
  res.write('event: next\ndata: {}\n\n');
  res.write('event: complete\ndata:\n\n');
  expect(written).toEqual(['event: next\ndata: {}\n\n']);
  res.end();
  expect(attached).toBe(1);
  expect(res.writableEnded).toBe(false);
  expect(Object.hasOwn(res, 'write')).toBe(false);
  expect(Object.hasOwn(res, 'end') ? res.end : ServerResponse.prototype.end).toBe(
    ServerResponse.prototype.end,
  );
});
