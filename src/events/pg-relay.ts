import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import type { TrainingJobRow } from '../db/schema.ts';
import type { AppEvents } from './topics.ts';
import { decodeEvent, encodeEvent, type PlainEvent, type WireEvent } from './wire.ts';

export const EVENTS_CHANNEL = 'training_api_events';

export type PgRelayOptions = {
  sql: postgres.Sql;
  events: AppEvents;
  /**
   * Reads a job whose error message did not fit into the notification whole (once per process,
   * not per subscriber).
   */
  readJob: (id: string) => Promise<TrainingJobRow | undefined>;
  logger: Logger;
  channel?: string;
};

export type PgRelay = { stop(): Promise<void> };

/**
 * Joins the processes on one PostgreSQL database into one event bus: whatever this process
 * publishes goes out as NOTIFY, and what the others publish arrives by LISTEN and is delivered
 * to local listeners. Each process tags its notifications with a random origin, so it ignores its
 * own echo. Sending and receiving are each one queue, so events keep their order.
 */
export async function startPgRelay({
  sql,
  events,
  readJob,
  logger,
  channel = EVENTS_CHANNEL,
}: PgRelayOptions): Promise<PgRelay> {
  const origin = randomUUID();
  let sending = Promise.resolve();
  let receiving = Promise.resolve();

  const deliverPlain = <E extends PlainEvent>({ topic, payload }: E) =>
    events.deliver(topic, payload);
  const deliver = async (event: WireEvent) => {
    if (event.origin === origin) return;
    // A `job:<id>` event carries the job's id beside its row.
    if (!('jobId' in event)) {
      deliverPlain(event);
      return;
    }
    const job = event.errorMessageCut ? await withWholeMessage(event.job) : event.job;
    events.deliver(event.topic, { job, newPoints: event.newPoints });
  };
  // The event's own row (its status above all) is delivered even if the job is gone meanwhile.
  const withWholeMessage = async (job: TrainingJobRow) => {
    const stored = (await readJob(job.id))?.errorMessage;
    return stored?.startsWith(job.errorMessage ?? '') ? { ...job, errorMessage: stored } : job;
  };

  let listening = false;
  const { unlisten } = await sql.listen(
    channel,
    (text) => {
      receiving = receiving
        .then(() => deliver(decodeEvent(text)))
        .catch((err: unknown) => logger.error({ err }, 'event relay: could not deliver'));
    },
    () => {
      // Notifications sent while the connection was down are lost: caches must not trust
      // what they hold, and the next event of each job brings its full state again.
      if (listening) {
        logger.warn('event relay: reconnected; events of the gap are lost');
        events.deliver('resync', {});
      }
      listening = true;
    },
  );

  const untap = events.tap((topic, payload) => {
    for (const text of encodeEvent(origin, topic, payload)) {
      sending = sending
        .then(async () => {
          await sql.notify(channel, text);
        })
        .catch((err: unknown) => logger.error({ err, topic }, 'event relay: could not send'));
    }
  });

  return {
    async stop() {
      untap();
      await sending;
      await unlisten();
      await receiving;
    },
  };
}
