import { type FormEvent, useState } from 'react';

export function SignIn({
  error,
  onSubmit,
}: {
  error?: string;
  onSubmit(token: string): Promise<void>;
}) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    await onSubmit(token.trim());
    setBusy(false);
  };
  return (
    <main className="centered">
      <form className="card sign-in" onSubmit={submit}>
        <h1>Training dashboard</h1>
        <p className="muted">
          Sign in with an API token. On its first start the server prints an admin token and keeps
          it in <code>data/admin-token</code>; other tokens come from <code>AUTH_TOKENS</code>.
        </p>
        <label htmlFor="token">Token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'token-error' : undefined}
          required
        />
        {error && (
          <p id="token-error" role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !token.trim()}>
          Sign in
        </button>
        <p className="muted small">The token stays in this browser tab only.</p>
      </form>
    </main>
  );
}
