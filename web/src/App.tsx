import type { Client } from '@urql/core';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Provider } from 'urql';
import { createApiClient } from './api/client.ts';
import { errorCode, errorMessage } from './api/errors.ts';
import { type Role, SessionContext } from './auth/session.tsx';
import { forgetToken, readToken, storeToken } from './auth/token-storage.ts';
import { graphql } from './graphql.ts';
import { Shell } from './Shell.tsx';
import { SignIn } from './SignIn.tsx';

const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      role
    }
  }
`);

type State =
  | { kind: 'checking' }
  | { kind: 'signed-out'; error?: string }
  | { kind: 'unreachable'; error: string; token: string | null }
  | { kind: 'signed-in'; client: Client; dispose(): void; role: Role; token: string | null };

const REJECTED = 'The server did not accept this token. Check it and try again.';
const EXPIRED = 'The server no longer accepts your token. Sign in again.';

/**
 * Finds out who we are before showing anything: with the stored token (or none, which works
 * when the server runs with auth disabled) ask the API for `viewer { role }`.
 */
export function App() {
  const [state, setState] = useState<State>({ kind: 'checking' });

  const check = useCallback(async (token: string | null) => {
    const api = createApiClient(token, {
      onUnauthenticated: () => {
        api.dispose();
        forgetToken();
        setState({ kind: 'signed-out', error: EXPIRED });
      },
    });
    const result = await api.client
      .query(ViewerQuery, {}, { requestPolicy: 'network-only' })
      .toPromise();
    if (result.data) {
      if (token) storeToken(token);
      setState({ kind: 'signed-in', ...api, role: result.data.viewer.role, token });
      return;
    }
    api.dispose();
    if (errorCode(result.error) === 'UNAUTHENTICATED') {
      forgetToken();
      setState({ kind: 'signed-out', error: token ? REJECTED : undefined });
    } else {
      setState({
        kind: 'unreachable',
        error: result.error ? errorMessage(result.error) : 'No answer from the server.',
        token,
      });
    }
  }, []);

  useEffect(() => {
    void check(readToken());
  }, [check]);

  const signedIn = state.kind === 'signed-in' ? state : null;
  const session = useMemo(
    () =>
      signedIn && {
        role: signedIn.role,
        authDisabled: signedIn.token === null,
        signOut() {
          signedIn.dispose();
          forgetToken();
          setState({ kind: 'signed-out' });
        },
      },
    [signedIn],
  );

  if (state.kind === 'checking') {
    return (
      <main className="centered" aria-busy="true">
        <p className="muted">Connecting…</p>
      </main>
    );
  }
  if (state.kind === 'signed-out') {
    return <SignIn error={state.error} onSubmit={(token) => check(token)} />;
  }
  if (state.kind === 'unreachable') {
    return (
      <main className="centered">
        <h1>Training dashboard</h1>
        <p role="alert" className="error">
          {state.error}
        </p>
        <button type="button" onClick={() => check(state.token)}>
          Try again
        </button>
      </main>
    );
  }
  return (
    <Provider value={state.client}>
      <SessionContext.Provider value={session}>
        <Shell />
      </SessionContext.Provider>
    </Provider>
  );
}
