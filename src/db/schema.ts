/** Every table, for drizzle (client, migrations) and for modules that use several domains' tables. */
export * from './dataset-tables.ts';
export * from './ocr-tables.ts';
export * from './training-tables.ts';
