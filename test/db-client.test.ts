import { expect, test } from 'vitest';
import { withoutDelay } from '../src/db/client.ts';

test('postgres.js gets no-delay sockets for one host, and keeps its own for several (failover)', () => {
  expect(withoutDelay('postgres://postgres@127.0.0.1:5432/test')).toHaveProperty('socket');
  expect(withoutDelay('postgres://db.internal/app?sslmode=require')).toHaveProperty('socket');
  expect(withoutDelay('postgres://u:p@a.example:5432,b.example:5433/app')).toEqual({});
});
