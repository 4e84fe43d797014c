/**
 * Per-request cost of a query through the whole yoga pipeline in-process (no network), for
 * finding where time goes: `npx tsx bench/queries/inprocess.ts`.
 */
import { pino } from 'pino';
import { createApp } from '../../src/app.ts';
import { TokenStore } from '../../src/auth/tokens.ts';
import { loadDemoCorpus } from '../../src/dataset/demo.ts';
import { openDatabase } from '../../src/db/client.ts';
import { createJob } from '../../src/training/jobs.ts';
import { builtinTrainer } from '../../src/training/trainers/port.ts';

const TOKEN = 'bench-admin-token-0123456789';
const database = await openDatabase({ kind: 'pglite' });
await database.migrate();
await loadDemoCorpus(database.db);
for (let i = 0; i < 20; i++)
  await createJob(database.db, builtinTrainer, { name: `j${i}`, bundeslaender: ['NW'] });
const app = createApp({
  database,
  logger: pino({ level: 'warn' }),
  tokens: new TokenStore([{ token: TOKEN, role: 'admin' }]),
});
const queries = {
  status:
    '{ trainingStatus { isTraining activeJob { id name } totalJobs completedJobs failedJobs queuedJobs modelVersions activeModels } }',
  jobs: '{ trainingJobs(first: 20) { edges { node { id name status progress loss learningRate metrics { f1Score lossHistory } config { batchSize } } } } }',
};
for (const [name, query] of Object.entries(queries)) {
  const body = JSON.stringify({ query });
  const once = async () => {
    const response = await app.yoga.fetch('http://bench/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body,
    });
    await response.text();
  };
  for (let i = 0; i < 500; i++) await once();
  const n = 5000;
  const started = performance.now();
  for (let i = 0; i < n; i++) await once();
  const us = ((performance.now() - started) / n) * 1000;
  console.log(
    `${name}: ${us.toFixed(0)} µs/request (${Math.round(1e6 / us)} req/s on one core, in-process)`,
  );
}
await app.yoga.dispose();
await database.close();
