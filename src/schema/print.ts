import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from './index.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

/** The committed SDL: generated from the Pothos code by `npm run schema:print`. */
export function printSchemaFile(): string {
  return `# Generated from src/schema by \`npm run schema:print\`. Do not edit by hand.\n\n${printSchema(schema)}\n`;
}
