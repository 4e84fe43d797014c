import { AppError, ErrorCode } from '../vocabulary/errors.ts';
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

const identify = (request: Request, tokens: TokenStore | 'disabled') =>
  authOfHeader(request.headers.get('authorization'), tokens);

/** Who sent an `Authorization` header (null when there was none). */
export function authOfHeader(
  header: string | null | undefined,
  tokens: TokenStore | 'disabled',
): RequestAuth {
  if (tokens === 'disabled') return { role: 'admin', tokenPresented: false };
  const token = bearerToken(header ?? null);
  return { role: token ? tokens.roleOf(token) : null, tokenPresented: header != null };
}

/** Why a caller may not do something its role lacks: UNAUTHENTICATED, or FORBIDDEN for a role. */
export function accessDenied(auth: RequestAuth): AppError {
  if (auth.role === null) {
    return new AppError(
      ErrorCode.UNAUTHENTICATED,
      auth.tokenPresented
        ? 'Unknown token'
        : 'Authentication required: send Authorization: Bearer <token>',
    );
  }
  return new AppError(ErrorCode.FORBIDDEN, `The ${auth.role} role may not do this`);
}
