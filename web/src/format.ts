/** Number and date formats shared by every page. */
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const formatDate = (iso: string | null | undefined) =>
  iso ? dateTime.format(new Date(iso)) : '—';

export const formatLoss = (value: number | null | undefined) =>
  value == null ? '—' : value.toFixed(4);

export const formatPercent = (fraction: number | null | undefined) =>
  fraction == null ? '—' : `${(fraction * 100).toFixed(1)} %`;

export const formatRate = (value: number | null | undefined) =>
  value == null ? '—' : value.toExponential(2);

export const formatCount = (value: number) => value.toLocaleString();

export function formatDuration(ms: number | null | undefined): string {
  if (ms == null) return '—';
  if (ms < 500) return '< 1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
