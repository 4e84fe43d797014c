import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

/** A tiny history-API router: the server answers every app route with index.html. */
const NAVIGATED = 'app:navigate';

function subscribe(onChange: () => void) {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

export const usePath = () => useSyncExternalStore(subscribe, () => window.location.pathname);

export function navigate(to: string, { replace = false } = {}) {
  if (replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATED));
  window.scrollTo(0, 0);
}

/** An ordinary link (open in new tab works) that navigates in the app on a plain click. */
export function Link({ to, ...props }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    props.onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a {...props} href={to} onClick={onClick} />;
}

export type Route =
  | { page: 'jobs' }
  | { page: 'new-job' }
  | { page: 'job'; id: string }
  | { page: 'models' }
  | { page: 'dataset' }
  | { page: 'ocr' }
  | { page: 'not-found' };

export function matchRoute(path: string): Route {
  const trimmed = path.replace(/\/+$/, '') || '/';
  if (trimmed === '/' || trimmed === '/jobs') return { page: 'jobs' };
  if (trimmed === '/jobs/new') return { page: 'new-job' };
  const job = trimmed.match(/^\/jobs\/([^/]+)$/);
  if (job?.[1]) return { page: 'job', id: decodeURIComponent(job[1]) };
  if (trimmed === '/models') return { page: 'models' };
  if (trimmed === '/dataset') return { page: 'dataset' };
  if (trimmed === '/ocr') return { page: 'ocr' };
  return { page: 'not-found' };
}
