import { writeFileSync } from 'node:fs';
import { printSchemaFile, SCHEMA_FILE } from '../src/schema/print.ts';

writeFileSync(SCHEMA_FILE, printSchemaFile());
console.log(`wrote ${SCHEMA_FILE}`);
