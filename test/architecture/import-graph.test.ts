import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { repoRoot } from '../support/databases.ts';

// The direction of imports in src/ (docs/architecture.md): lower layers never import upward.

const SRC = path.join(repoRoot, 'src');

/** Every module under src/, as a path relative to src/. */
const modules = (readdirSync(SRC, { recursive: true }) as string[])
  .filter((file) => /\.(ts|mjs)$/.test(file))
  .map((file) => file.split(path.sep).join('/'));

/** The modules of src/ that `file` imports (static, dynamic, type-only, worker URLs). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:from|import|import\(|new URL\()\s*['"](\.{1,2}\/[^'"]+)['"]/g),
  ].map((m) => m[1] ?? '');
  return specifiers.map((spec) =>
    path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)),
  );
}

const graph = modules.map((file) => ({ file, imports: importsOf(file) }));

const under = (dir: string) => (target: string) => target.startsWith(`${dir}/`);

/** Outside src/ (the migrations folder that db/client.ts reads): no layer of ours. */
const outsideSrc = (target: string) => target.startsWith('../');

/** Imports of modules matching `from` that break `allowed`, as "from -> target". */
function violations(from: (file: string) => boolean, allowed: (target: string) => boolean) {
  return graph
    .filter(({ file }) => from(file))
    .flatMap(({ file, imports }) =>
      imports
        .filter((target) => !outsideSrc(target) && !allowed(target))
        .map((target) => `${file} -> ${target}`),
    );
}

test('the graph is read: every module is found and relative imports resolve to files', () => {
  expect(modules).toContain('app.ts');
  const known = new Set(modules);
  const dangling = graph.flatMap(({ file, imports }) =>
    imports
      .filter((target) => !target.startsWith('../') && !known.has(target))
      .map((t) => `${file} -> ${t}`),
  );
  expect(dangling).toEqual([]);
  expect(graph.find((m) => m.file === 'db/training-tables.ts')?.imports).toContain(
    'vocabulary/training.ts',
  );
});

test('nothing under src/vocabulary imports anything from src', () => {
  expect(violations(under('vocabulary'), () => false)).toEqual([]);
});

test('src/db and src/events import only vocabulary, db and events', () => {
  const lower = ['vocabulary', 'db', 'events'].map(under);
  const allowed = (target: string) => lower.some((inside) => inside(target));
  expect(violations((f) => under('db')(f) || under('events')(f), allowed)).toEqual([]);
});

test('domain folders never import the API layers', () => {
  const domain = ['training', 'dataset', 'ocr'].map(under);
  const api = ['schema', 'plugins', 'http'].map(under);
  const allowed = (target: string) =>
    !api.some((inside) => inside(target)) && target !== 'app.ts' && target !== 'server.ts';
  expect(violations((f) => domain.some((inside) => inside(f)), allowed)).toEqual([]);
});

test('src/schema does not import src/http', () => {
  expect(violations(under('schema'), (target) => !under('http')(target))).toEqual([]);
});
