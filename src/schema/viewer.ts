import { ROLES, type Role } from '../auth/tokens.ts';
import { builder } from './builder.ts';

const RoleEnum = builder.enumType('Role', {
  description: 'What a token may do: ADMIN everything, VIEWER queries and subscriptions only.',
  values: Object.fromEntries(ROLES.map((role) => [role.toUpperCase(), { value: role }])) as Record<
    Uppercase<Role>,
    { value: Role }
  >,
});

const Viewer = builder.objectRef<{ role: Role }>('Viewer').implement({
  description: 'Who is asking.',
  fields: (t) => ({
    role: t.field({ type: RoleEnum, resolve: (viewer) => viewer.role }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: Viewer,
    description:
      'The caller and its role, so that a client shows only the actions it may take (ADMIN when auth is disabled).',
    authScopes: { viewer: true },
    // authScopes let only a caller with a role through
    resolve: (_root, _args, ctx) => ({ role: ctx.auth.role as Role }),
  }),
}));
