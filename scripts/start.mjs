// `npm start`: the server as bundled by `npm run build:server` (which `npm ci` runs), so that a
// start transpiles nothing. Node's own flags (V8's heap growth) are in package.json's start
// script.
import module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ensureServerBuild, { SERVER_BUNDLE } from './ensure-server-build.mjs';

ensureServerBuild();
// V8 keeps the code it compiled for the bundle and reuses it from the second start on.
module.enableCompileCache?.(
  fileURLToPath(new URL('../node_modules/.cache/node-compile-cache', import.meta.url)),
);
await import(pathToFileURL(SERVER_BUNDLE).href);
