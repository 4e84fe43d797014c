import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.ts';

/** Where `npm run build:web` (run by `npm ci`'s prepare) writes the dashboard. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** The dashboard's own routes: each answers with index.html and the app picks the page. */
const APP_ROUTE = /^\/(?:(?:jobs(?:\/[^/]+)?|models|dataset|ocr)\/?)?$/;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

// Vite names everything under assets/ by its content hash, so it may be cached for good.
const IMMUTABLE = 'public, max-age=31536000, immutable';
// index.html names the current assets: always revalidate it (cheap, thanks to the ETag).
const REVALIDATE = 'no-cache';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Everything comes from this origin; uPlot and React set element styles at run time.
  'content-security-policy':
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

type StaticFile = {
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer> | null;
  type: string;
  etag: string;
  cacheControl: string;
};

/**
 * Reads the built files once. Only these paths are ever served: a request path is looked up in
 * this map, never joined onto a directory, so no path can reach outside the build.
 */
function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const urlPath = `/${path.relative(dir, full).split(path.sep).join('/')}`;
    const ext = path.extname(entry.name);
    const body = new Uint8Array(readFileSync(full));
    files.set(urlPath, {
      body,
      gzip: COMPRESSIBLE.has(ext) ? new Uint8Array(gzipSync(body)) : null,
      type: CONTENT_TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      cacheControl: urlPath.startsWith('/assets/') ? IMMUTABLE : REVALIDATE,
    });
  }
  return files;
}

/**
 * Serves the dashboard's built files at `/` with the app's routes falling back to index.html;
 * every other path (`/graphql`, `/graphql/stream`, `/health`, `/ready`) goes on to yoga.
 */
export function useDashboard({
  logger,
  dir = DASHBOARD_DIR,
}: {
  logger: Logger;
  dir?: string;
}): Plugin {
  const files = existsSync(path.join(dir, 'index.html')) ? loadFiles(dir) : null;
  if (!files) logger.warn({ dir }, 'the dashboard is not built: run `npm run build:web`');

  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      const isAppRoute = APP_ROUTE.test(url.pathname);
      if (!files) {
        if (isAppRoute) {
          endResponse(
            new fetchAPI.Response('The dashboard is not built: run `npm run build:web`.\n', {
              status: 503,
              headers: { 'content-type': 'text/plain; charset=utf-8' },
            }),
          );
        }
        return;
      }
      const file = isAppRoute ? files.get('/index.html') : files.get(url.pathname);
      if (!file) return;
      const headers: Record<string, string> = {
        'content-type': file.type,
        'cache-control': file.cacheControl,
        etag: file.etag,
        vary: 'accept-encoding',
        ...(file.type.startsWith('text/html') ? SECURITY_HEADERS : {}),
      };
      if (request.headers.get('if-none-match') === file.etag) {
        endResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      const gzip = file.gzip && acceptsGzip(request) ? file.gzip : null;
      const body = gzip ?? file.body;
      if (gzip) headers['content-encoding'] = 'gzip';
      headers['content-length'] = String(body.byteLength);
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' ? null : body, { status: 200, headers }),
      );
    },
  };
}

const acceptsGzip = (request: Request) =>
  /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
