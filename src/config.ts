import path from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_MAX_IMAGE_PIXELS,
  DEFAULT_OCR_WORKERS,
} from './ocr/defaults.ts';

/** The largest page a connection serves unless MAX_PAGE_SIZE says otherwise. */
export const DEFAULT_MAX_PAGE_SIZE = 100;

const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1'));
const bool = (fallback: boolean) => flag.transform((v) => v ?? fallback);

const count = (fallback: number) => z.coerce.number().int().positive().default(fallback);

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
  NODE_ENV: z.string().optional(),
  INTROSPECTION: flag,
  MAX_DEPTH: count(12),
  MAX_ALIASES: count(30),
  MAX_TOKENS: count(5000),
  MAX_COST: count(20_000),
  MAX_PAGE_SIZE: count(DEFAULT_MAX_PAGE_SIZE),
  MAX_BODY_BYTES: count(1024 * 1024),
  MAX_UPLOAD_BYTES: count(100 * 1024 * 1024),
  MAX_UPLOAD_FILE_BYTES: count(50 * 1024 * 1024),
  MAX_UPLOAD_FILES: count(200),
  MAX_STREAMS_PER_TOKEN: count(500),
  MAX_STREAMS: count(20_000),
  MAX_STREAM_BACKLOG_BYTES: count(1024 * 1024),
  WORKER: bool(true),
  TRAINING_CONCURRENCY: count(1),
  TRAINER: z.enum(['builtin', 'command']).default('builtin'),
  TRAINER_COMMAND: z.string().optional(),
  PREDICT_COMMAND: z.string().optional(),
  PREDICT_MAX_PROCESSES: count(4),
  PREDICT_IDLE_MS: count(300_000),
  PREDICT_TIMEOUT_MS: count(10_000),
  PREDICT_START_TIMEOUT_MS: count(60_000),
  LEASE_MS: count(15_000),
  PROGRESS_FLUSH_MS: count(250),
  CHECKPOINT_INTERVAL_MS: count(10_000),
  RUNNER_POLL_MS: count(2_000),
  OCR_WORKERS: z.coerce.number().int().min(1).max(64).default(DEFAULT_OCR_WORKERS),
  OCR_MAX_IMAGE_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_IMAGE_BYTES),
  OCR_MAX_IMAGE_PIXELS: z.coerce.number().int().positive().default(DEFAULT_MAX_IMAGE_PIXELS),
  SSE_KEEPALIVE_MS: z.coerce.number().int().min(100).default(12_000),
  SSE_FAST_PATH: bool(true),
  PROGRESS_MAX_EVENTS_PER_SECOND: z.coerce.number().positive().max(1000).default(4),
  METRICS_TOKEN: z.string().min(16).optional(),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v, ctx) => (v === undefined ? [] : parseOrigins(v, ctx))),
  WS_INIT_TIMEOUT_MS: count(3_000),
  TRUSTED_DOCUMENTS: z.string().optional(),
  APQ_STORE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(16 * 1024 * 1024),
});

/** `CORS_ORIGINS`: comma-separated origins (`scheme://host[:port]`, nothing after it). */
function parseOrigins(value: string, ctx: z.RefinementCtx): string[] {
  const origins = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of origins) {
    if (!URL.canParse(entry) || new URL(entry).origin !== entry) {
      ctx.addIssue({ code: 'custom', message: `not an origin (scheme://host[:port]): ${entry}` });
    }
  }
  return origins;
}

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
  production: boolean;
  /** Whether clients may introspect the schema (GraphiQL's docs need it). */
  introspection: boolean;
  limits: Limits;
  runner: RunnerConfig;
  predict: PredictConfig;
  /** tesseract.js worker threads (~180 MB each). */
  ocrWorkers: number;
  ocrMaxImageBytes: number;
  ocrMaxImagePixels: number;
  sseKeepAliveMs: number;
  /** Whether single-operation event streams leave the libraries after their first update (http/sse/fanout.ts). */
  sseFastPath: boolean;
  progressMaxEventsPerSecond: number;
  /** A bearer token that may read /metrics besides admin tokens (METRICS_TOKEN). */
  metricsToken: string | undefined;
  /** Browser origins other than the server's own that may call the API (CORS_ORIGINS). */
  corsOrigins: readonly string[];
  /** How long a graphql-ws connection may take to send its `connection_init`. */
  wsInitTimeoutMs: number;
  persistedDocuments: PersistedDocumentsConfig;
};

/** Which documents run (README "Trusted documents"). */
export type PersistedDocumentsConfig = {
  /** A manifest of the only documents that run (TRUSTED_DOCUMENTS); unset: any document runs. */
  trustedDocuments: string | undefined;
  /** Bytes of query text kept for Automatic Persisted Queries when any document runs; 0: APQ off. */
  apqStoreBytes: number;
};

/** The training runner of this process (README "Training"). */
export type RunnerConfig = {
  /** Whether this process trains at all (WORKER=false: API only). */
  enabled: boolean;
  concurrency: number;
  trainer: 'builtin' | 'command';
  trainerCommand: string | undefined;
  leaseMs: number;
  flushIntervalMs: number;
  checkpointIntervalMs: number;
  pollIntervalMs: number;
};

/** The processes that serve models of command trainers (docs/trainer-command.md, "predict"). */
export type PredictConfig = {
  /** PREDICT_COMMAND; unset: TRAINER_COMMAND with TRAINER_MODE=predict. */
  command: string | undefined;
  /** Model processes alive at once; the least recently used idle one makes room. */
  maxProcesses: number;
  /** A model process unused this long is stopped. */
  idleMs: number;
  /** One request's time to its answer; the process is killed after it. */
  timeoutMs: number;
  /** A model process's time to its ready line. */
  startTimeoutMs: number;
};

/** Abuse limits: refused before they cost anything. README "Security" lists them. */
export type Limits = {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxCost: number;
  maxPageSize: number;
  maxBodyBytes: number;
  maxUploadBytes: number;
  maxUploadFileBytes: number;
  maxUploadFiles: number;
  maxStreamsPerToken: number;
  maxStreams: number;
  maxStreamBacklogBytes: number;
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
  const production = e.NODE_ENV === 'production';
  if (e.TRAINER === 'command' && !e.TRAINER_COMMAND) {
    throw new Error('Invalid environment: TRAINER=command needs TRAINER_COMMAND');
  }
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
    production,
    introspection: e.INTROSPECTION ?? !production,
    limits: {
      maxDepth: e.MAX_DEPTH,
      maxAliases: e.MAX_ALIASES,
      maxTokens: e.MAX_TOKENS,
      maxCost: e.MAX_COST,
      maxPageSize: e.MAX_PAGE_SIZE,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      maxUploadFileBytes: e.MAX_UPLOAD_FILE_BYTES,
      maxUploadFiles: e.MAX_UPLOAD_FILES,
      maxStreamsPerToken: e.MAX_STREAMS_PER_TOKEN,
      maxStreams: e.MAX_STREAMS,
      maxStreamBacklogBytes: e.MAX_STREAM_BACKLOG_BYTES,
    },
    runner: {
      enabled: e.WORKER,
      concurrency: e.TRAINING_CONCURRENCY,
      trainer: e.TRAINER,
      trainerCommand: e.TRAINER_COMMAND,
      leaseMs: e.LEASE_MS,
      flushIntervalMs: e.PROGRESS_FLUSH_MS,
      checkpointIntervalMs: e.CHECKPOINT_INTERVAL_MS,
      pollIntervalMs: e.RUNNER_POLL_MS,
    },
    predict: {
      command: e.PREDICT_COMMAND,
      maxProcesses: e.PREDICT_MAX_PROCESSES,
      idleMs: e.PREDICT_IDLE_MS,
      timeoutMs: e.PREDICT_TIMEOUT_MS,
      startTimeoutMs: e.PREDICT_START_TIMEOUT_MS,
    },
    ocrWorkers: e.OCR_WORKERS,
    ocrMaxImageBytes: e.OCR_MAX_IMAGE_BYTES,
    ocrMaxImagePixels: e.OCR_MAX_IMAGE_PIXELS,
    sseKeepAliveMs: e.SSE_KEEPALIVE_MS,
    sseFastPath: e.SSE_FAST_PATH,
    progressMaxEventsPerSecond: e.PROGRESS_MAX_EVENTS_PER_SECOND,
    metricsToken: e.METRICS_TOKEN,
    corsOrigins: e.CORS_ORIGINS,
    wsInitTimeoutMs: e.WS_INIT_TIMEOUT_MS,
    persistedDocuments: {
      trustedDocuments: e.TRUSTED_DOCUMENTS ? path.resolve(e.TRUSTED_DOCUMENTS) : undefined,
      apqStoreBytes: e.APQ_STORE_BYTES,
    },
  };
}
