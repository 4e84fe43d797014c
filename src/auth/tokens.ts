import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DigestMemo, sha256 } from './digests.ts';

export const ROLES = ['admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

type Entry = { digest: Buffer; role: Role };

/**
 * Known tokens, compared by SHA-256 digest in constant time: every entry is compared, so the
 * time taken says nothing about which token (or which prefix) came close. The digests of the
 * tokens presented are remembered (each stream of a dashboard presents the same one), never
 * their roles: every call compares against the entries of this store.
 */
export class TokenStore {
  readonly #entries: Entry[];
  readonly #presented = new DigestMemo(sha256);

  constructor(tokens: ReadonlyArray<{ token: string; role: Role }>) {
    this.#entries = tokens.map(({ token, role }) => ({ digest: sha256(token), role }));
  }

  roleOf(token: string): Role | null {
    const candidate = this.#presented.of(token);
    let role: Role | null = null;
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.digest, candidate)) role = entry.role;
    }
    return role;
  }

  get size(): number {
    return this.#entries.length;
  }
}

/** Parses `AUTH_TOKENS`: comma-separated `token:role` pairs. */
export function parseAuthTokens(value: string): Array<{ token: string; role: Role }> {
  return value
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.lastIndexOf(':');
      const token = pair.slice(0, at);
      const role = pair.slice(at + 1);
      if (at <= 0 || !(ROLES as readonly string[]).includes(role)) {
        throw new Error(`AUTH_TOKENS: "${pair.slice(0, 4)}…" must be token:admin or token:viewer`);
      }
      if (token.length < 16) throw new Error('AUTH_TOKENS: tokens must be at least 16 characters');
      return { token, role: role as Role };
    });
}

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The admin token kept in DATA_DIR when AUTH_TOKENS is unset: generated on first start (and
 * then reported as `created`, so the caller prints it once), read back on later starts.
 */
export function loadOrCreateAdminToken(dataDir: string): {
  token: string;
  created: boolean;
  file: string;
} {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return { token, created: false, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, created: true, file };
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | null): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}
