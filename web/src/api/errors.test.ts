import { CombinedError } from '@urql/core';
import { describe, expect, test } from 'vitest';
import { errorCode, fieldErrors } from './errors.ts';

const badInput = (field: string, message: string) => ({
  message,
  extensions: { code: 'BAD_USER_INPUT', field },
});

describe('fieldErrors', () => {
  test('puts each BAD_USER_INPUT message under its top-level input field', () => {
    const error = new CombinedError({
      graphQLErrors: [
        badInput('input.batchSize', 'batchSize must be between 1 and 128'),
        badInput('input.bundeslaender.0', 'bundeslaender: each entry must be one of BW BY …'),
      ],
    });
    expect(fieldErrors(error)).toEqual({
      byField: {
        batchSize: 'batchSize must be between 1 and 128',
        bundeslaender: 'bundeslaender: each entry must be one of BW BY …',
      },
      other: [],
    });
    expect(errorCode(error)).toBe('BAD_USER_INPUT');
  });

  test('keeps errors without a field, and network errors, apart', () => {
    const forbidden = new CombinedError({
      graphQLErrors: [
        { message: 'The viewer role may not do this', extensions: { code: 'FORBIDDEN' } },
      ],
    });
    expect(fieldErrors(forbidden)).toEqual({
      byField: {},
      other: ['The viewer role may not do this'],
    });
    const offline = new CombinedError({ networkError: new Error('Failed to fetch') });
    expect(fieldErrors(offline).other).toEqual([
      'The server could not be reached (Failed to fetch).',
    ]);
    expect(fieldErrors(undefined)).toEqual({ byField: {}, other: [] });
  });
});
