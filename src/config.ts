import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_IMAGE_BYTES, DEFAULT_OCR_WORKERS } from './ocr/constants.ts';

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
  OCR_WORKERS: z.coerce.number().int().min(1).max(64).default(DEFAULT_OCR_WORKERS),
  OCR_MAX_IMAGE_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_IMAGE_BYTES),
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
  /** tesseract.js worker threads (~180 MB each). */
  ocrWorkers: number;
  ocrMaxImageBytes: number;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
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
    ocrWorkers: e.OCR_WORKERS,
    ocrMaxImageBytes: e.OCR_MAX_IMAGE_BYTES,
  };
}
