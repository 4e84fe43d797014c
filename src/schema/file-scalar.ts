import { builder } from './builder.ts';

/** yoga hands uploads over as web `File`s (its own implementation on Node, so no instanceof). */
const isFile = (value: unknown): value is File =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as File).arrayBuffer === 'function' &&
  typeof (value as File).size === 'number';

builder.scalarType('File', {
  description:
    'An uploaded file: a part of a GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec). Input only.',
  serialize: () => {
    throw new TypeError('File is an input-only scalar');
  },
  parseValue: (value) => {
    if (!isFile(value)) throw new TypeError('File must be sent as a multipart request part');
    return value;
  },
});
