/** The server's own secrets are none of a trainer's business. */
const WITHHELD_ENV = ['AUTH_TOKENS', 'DATABASE_URL'];

/** The environment a trainer command runs in, in any mode: the server's, without its secrets. */
export function trainerEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of WITHHELD_ENV) delete env[name];
  return env;
}
