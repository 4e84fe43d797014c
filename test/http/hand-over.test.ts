import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { HAND_OVER_VERIFIED_WITH } from '../../src/http/sse/hand-over.ts';
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
