import type { CombinedError } from '@urql/core';
import { type ReactNode, useEffect } from 'react';
import { errorMessage } from '../api/errors.ts';
import type { JobStatus } from '../jobs/actions.ts';

/** Sets the tab's title to the page's. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Training dashboard`;
  }, [title]);
}

export function ErrorNotice({ error }: { error: CombinedError }) {
  return (
    <p role="alert" className="error">
      {errorMessage(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

export function StatusBadge({ status }: { status: JobStatus }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status}</span>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A labelled value in a definition list. */
export function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
