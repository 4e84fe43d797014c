import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { accessDenied } from '../auth/request-auth.ts';
import type { GraphQLContext } from './context.ts';

/** The builder holds configuration only; each domain's types live in their own schema file. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: { viewer: boolean; admin: boolean };
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    File: { Input: File; Output: never };
    ID: { Input: string; Output: string };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      viewer: ctx.auth.role !== null,
      admin: ctx.auth.role === 'admin',
    }),
    unauthorizedError: (_parent, ctx) => accessDenied(ctx.auth),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    nodeQueryOptions: { authScopes: { viewer: true } },
    nodeTypeOptions: { description: 'An object with a global ID, fetchable with `node(id)`.' },
    pageInfoTypeOptions: { description: 'Where a page of a connection sits.' },
  },
});
