import { builder } from './builder.ts';

builder.scalarType('DateTime', {
  description: 'A point in time, as an ISO 8601 string in UTC (e.g. 2026-11-27T09:30:00.000Z).',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime must be an ISO 8601 string');
    return date;
  },
});

builder.scalarType('File', {
  description:
    'An uploaded file (GraphQL multipart request spec: a multipart/form-data POST to /graphql).',
  serialize: () => {
    throw new TypeError('File is an input-only scalar');
  },
});
