// Worker entry in plain JS: Node cannot start a worker on a .ts file by itself, and under
// vitest the parent's TypeScript support (vite) does not reach worker threads. So register tsx's
// loader in this thread, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
