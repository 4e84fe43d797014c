import { createContext, useContext } from 'react';

export type Role = 'ADMIN' | 'VIEWER';

export type Session = {
  role: Role;
  /** The server runs with AUTH_DISABLED: no token, nothing to sign out of. */
  authDisabled: boolean;
  signOut(): void;
};

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** Whether to show controls that change anything: the API refuses them to viewers anyway. */
export const useCanMutate = () => useSession().role === 'ADMIN';
