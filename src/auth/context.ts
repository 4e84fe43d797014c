import { bearerToken, type Role, type TokenStore } from './tokens.ts';

export type RequestAuth = { role: Role | null; tokenPresented: boolean };

// The context and the response cache both ask; hash the token once per request.
const seen = new WeakMap<Request, RequestAuth>();

/** Who a request is, from its Authorization header only (never cookies). */
export function authenticate(request: Request, tokens: TokenStore | 'disabled'): RequestAuth {
  let auth = seen.get(request);
  if (!auth) {
    auth = identify(request, tokens);
    seen.set(request, auth);
  }
  return auth;
}

function identify(request: Request, tokens: TokenStore | 'disabled'): RequestAuth {
  if (tokens === 'disabled') return { role: 'admin', tokenPresented: false };
  const header = request.headers.get('authorization');
  const token = bearerToken(header);
  return { role: token ? tokens.roleOf(token) : null, tokenPresented: header !== null };
}
