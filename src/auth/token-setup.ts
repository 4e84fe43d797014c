import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { loadOrCreateAdminToken, parseAuthTokens, TokenStore } from './tokens.ts';

/** The token store the configuration asks for, telling the operator what was chosen. */
export function setUpAuth(
  config: AppConfig,
  logger: Logger,
  publicUrl: string,
): TokenStore | 'disabled' {
  if (config.authDisabled) {
    logger.warn(
      '!!! AUTH_DISABLED=true: every request is treated as admin. Use this for local experiments only, never on a shared network. !!!',
    );
    return 'disabled';
  }
  if (config.authTokens) {
    const store = new TokenStore(parseAuthTokens(config.authTokens));
    logger.info({ tokens: store.size }, 'auth: using tokens from AUTH_TOKENS');
    return store;
  }
  const { token, created, file } = loadOrCreateAdminToken(config.dataDir);
  if (created) {
    // Printed to stdout on purpose, not into the logs: it is shown once, for the person starting the server.
    process.stdout.write(
      [
        '',
        '  An admin token was generated and stored in',
        `    ${file}`,
        '  Use it as a Bearer token, e.g. in GraphiQL (Headers tab) at',
        `    ${publicUrl}`,
        `    {"Authorization": "Bearer ${token}"}`,
        '',
        '',
      ].join('\n'),
    );
  } else {
    logger.info({ file }, 'auth: using the admin token stored in DATA_DIR');
  }
  return new TokenStore([{ token, role: 'admin' }]);
}
