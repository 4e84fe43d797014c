import path from 'node:path';
import { z } from 'zod';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : v === 'true' || v === '1'));

/** Every environment variable the server reads; README "Configuration" documents each. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('./data'),
  AUTH_TOKENS: z.string().optional(),
  AUTH_DISABLED: bool(false),
  DEMO_DATA: bool(true),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(0).default(1000),
  SSE_KEEPALIVE_MS: z.coerce.number().int().min(100).default(12_000),
  PROGRESS_MAX_EVENTS_PER_SECOND: z.coerce.number().positive().max(1000).default(4),
});

export type AppConfig = {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  authTokens: string | undefined;
  authDisabled: boolean;
  demoData: boolean;
  shutdownTimeoutMs: number;
  responseCacheTtlMs: number;
  sseKeepAliveMs: number;
  progressMaxEventsPerSecond: number;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // An empty variable means unset (as in `DATABASE_URL= npm start`).
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment: ${issues.join('; ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    authTokens: e.AUTH_TOKENS,
    authDisabled: e.AUTH_DISABLED,
    demoData: e.DEMO_DATA,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    responseCacheTtlMs: e.RESPONSE_CACHE_TTL_MS,
    sseKeepAliveMs: e.SSE_KEEPALIVE_MS,
    progressMaxEventsPerSecond: e.PROGRESS_MAX_EVENTS_PER_SECOND,
  };
}
