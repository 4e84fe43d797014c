import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../../db/client.ts';
import type { AppEvents } from '../../events/topics.ts';
import type { Logger } from '../../logger.ts';
import { builtinModelPredictor, type ModelPredictor } from '../predict/model-predictor.ts';
import type { Trainer } from '../trainers/port.ts';
import {
  type RunControl,
  type RunnerStats,
  type RunOutcome,
  type RunSettings,
  runJob,
} from './job-run.ts';
import { adoptOrphanedJob, claimQueuedJob, releaseLease, type TakenJob } from './lease.ts';

export type RunnerOptions = {
  db: Db;
  events: AppEvents;
  logger: Logger;
  trainer: Trainer;
  /** Runs models for the champion/challenger evaluation; left out: built-in models only. */
  predictor?: ModelPredictor;
  /** Jobs this process trains at once (TRAINING_CONCURRENCY). */
  concurrency: number;
  /** How often to look for work when nothing announces it. */
  pollIntervalMs: number;
} & Omit<RunSettings, 'owner'>;

/**
 * Takes jobs from the queue while it has free slots: QUEUED jobs in order, and running jobs whose
 * owner stopped renewing its lease (a crashed process). Several processes share one queue.
 */
export function createRunner(options: RunnerOptions) {
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const settings: RunSettings = { ...options, owner };
  const stats: RunnerStats = { leaseRenewalsFailed: 0 };
  const predictor = options.predictor ?? builtinModelPredictor();
  const running = new Map<string, { control: RunControl; done: Promise<RunOutcome> }>();
  const log = options.logger.child({ component: 'runner', owner });
  let stopped = false;
  let filling: Promise<void> | null = null;
  let again = false;

  const take = async (): Promise<TakenJob | undefined> => {
    const adopted = await adoptOrphanedJob(options.db, owner, options.leaseMs);
    return adopted ? { job: adopted } : claimQueuedJob(options.db, owner, options.leaseMs);
  };

  const start = (taken: TakenJob) => {
    const { job } = taken;
    const run = runJob({ ...options, predictor, settings, stats }, taken);
    running.set(job.id, run);
    run.done
      .then((outcome) => log.info({ jobId: job.id, outcome }, 'run ended'))
      .finally(() => {
        running.delete(job.id);
        fill();
      });
  };

  /** Fills free slots; calls while filling make it go round once more. */
  const fill = () => {
    if (stopped) return;
    if (filling) {
      again = true;
      return;
    }
    filling = (async () => {
      do {
        again = false;
        while (!stopped && running.size < options.concurrency) {
          const taken = await take();
          if (!taken) break;
          start(taken);
        }
      } while (again && !stopped);
    })()
      .catch((error) => log.error({ err: error }, 'could not take a job'))
      .finally(() => {
        filling = null;
      });
  };

  // A job created or resumed (here or elsewhere) is worth a look at once; progress frees no slot.
  const unsubscribers = [
    options.events.subscribe('jobs', () => fill()),
    options.events.subscribe('resync', () => fill()),
  ];
  const poll = setInterval(fill, options.pollIntervalMs);
  fill();

  return {
    owner,
    /** Jobs running in this process now. */
    runningJobIds: () => [...running.keys()],
    /** Slots, busy ones, steps per second of each running job and failed lease renewals. */
    activity: () => ({
      slots: options.concurrency,
      busy: running.size,
      stepsPerSecond: [...running].map(([jobId, run]) => ({
        jobId,
        value: run.control.stepsPerSecond(),
      })),
      leaseRenewalsFailed: stats.leaseRenewalsFailed,
    }),
    /** Stops taking jobs; running ones checkpoint and are left for the next process to adopt. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(poll);
      for (const unsubscribe of unsubscribers) unsubscribe();
      await filling;
      const runs = [...running.entries()];
      for (const [, run] of runs) run.control.releaseForShutdown();
      await Promise.all(runs.map(([, run]) => run.done));
      await Promise.all(runs.map(([jobId]) => releaseLease(options.db, jobId, owner)));
    },
  };
}

export type Runner = ReturnType<typeof createRunner>;
