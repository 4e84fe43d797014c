import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { printSchemaFile, SCHEMA_FILE } from '../src/schema/print.ts';

test('schema.graphql matches the code (run `npm run schema:print` after changing the schema)', () => {
  expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printSchemaFile());
});
