import { bearerToken, type Role, type TokenStore } from './tokens.ts';

export type RequestAuth = { role: Role | null; tokenPresented: boolean };

/** Who a request is, from its Authorization header only (never cookies). */
export function authenticate(request: Request, tokens: TokenStore | 'disabled'): RequestAuth {
  if (tokens === 'disabled') return { role: 'admin', tokenPresented: false };
  const header = request.headers.get('authorization');
  const token = bearerToken(header);
  return { role: token ? tokens.roleOf(token) : null, tokenPresented: header !== null };
}
