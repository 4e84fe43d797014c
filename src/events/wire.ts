import { getTableColumns } from 'drizzle-orm';
import { type MetricPointRow, type TrainingJobRow, trainingJobs } from '../db/schema.ts';
import type { AppTopics, JobEvent } from './topics.ts';

/**
 * How events travel between processes as NOTIFY payloads (text, under 8000 bytes):
 * `{"o": origin, "t": topic, ...}` with, for `job:<id>`, the job row in `j` and the new points as
 * compact tuples in `n`, and for every other topic its payload as JSON in `p`. A job event too
 * large for one payload is split: every part carries the row and some of the points, so each part
 * is a whole JobEvent. A row too large on its own (a long errorMessage) goes with its message cut
 * to fit and `"c":1`; receivers read the whole message (the status and the rest travel as they
 * are).
 */
export const MAX_PAYLOAD_BYTES = 7999;

type PointTuple = [
  step: number,
  epoch: number,
  loss: number | null,
  valLoss: number | null,
  learningRate: number,
  recordedAtMs: number,
];

/** Every topic but `job:<id>`: its payload travels as it is. */
export type PlainTopic = Exclude<keyof AppTopics & string, `job:${string}`>;

export type PlainEvent = {
  [K in PlainTopic]: { origin: string; topic: K; payload: AppTopics[K] };
}[PlainTopic];

export type WireEvent =
  | PlainEvent
  | {
      origin: string;
      topic: `job:${string}`;
      jobId: string;
      job: TrainingJobRow;
      /** The row's errorMessage was cut to fit: the receiver reads the whole one. */
      errorMessageCut?: true;
      newPoints: MetricPointRow[];
    };

const JOB_PREFIX = 'job:';

const DATE_FIELDS = Object.entries(getTableColumns(trainingJobs))
  .filter(([, column]) => column.dataType === 'date')
  .map(([key]) => key);

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** One or more payloads that together carry the event, in order. */
export function encodeEvent(
  origin: string,
  topic: keyof AppTopics & string,
  payload: AppTopics[keyof AppTopics & string],
): string[] {
  if (!topic.startsWith(JOB_PREFIX)) return [JSON.stringify({ o: origin, t: topic, p: payload })];
  const { job, newPoints } = payload as JobEvent;
  const points = newPoints.map((p) =>
    JSON.stringify([
      p.step,
      p.epoch,
      p.loss,
      p.valLoss,
      p.learningRate,
      p.recordedAt.getTime(),
    ] satisfies PointTuple),
  );
  const head = `{"o":${JSON.stringify(origin)},"t":${JSON.stringify(topic)}`;
  const parts =
    split(`${head},"j":${JSON.stringify(job)},"n":[`, points) ??
    split(`${head},"j":${JSON.stringify(cutErrorMessage(job, head))},"c":1,"n":[`, points);
  if (!parts) throw new Error(`event on ${topic} cannot be split into NOTIFY payloads`);
  return parts;
}

/** Room left in a payload for a point or two next to the row. */
const POINT_ROOM = 400;

/** The row with as much of its errorMessage as fits into a payload beside `head`. */
function cutErrorMessage(job: TrainingJobRow, head: string): TrainingJobRow {
  const message = job.errorMessage ?? '';
  const fits = (length: number) =>
    bytes(head) + bytes(JSON.stringify({ ...job, errorMessage: message.slice(0, length) })) <=
    MAX_PAYLOAD_BYTES - POINT_ROOM;
  let [low, high] = [0, message.length];
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return { ...job, errorMessage: message.slice(0, low) };
}

/** `head` + some points + `]}` per part, each part within the limit; null if none fits. */
function split(head: string, points: string[]): string[] | null {
  const budget = MAX_PAYLOAD_BYTES - bytes(head) - 2;
  if (budget < 0) return null;
  const parts: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const point of points) {
    const added = bytes(point) + (current.length > 0 ? 1 : 0);
    if (size + added > budget) {
      if (current.length === 0) return null;
      parts.push(`${head}${current.join(',')}]}`);
      current = [];
      size = 0;
    }
    size += bytes(point) + (current.length > 0 ? 1 : 0);
    current.push(point);
  }
  parts.push(`${head}${current.join(',')}]}`);
  return parts;
}

export function decodeEvent(text: string): WireEvent {
  const message = JSON.parse(text) as {
    o: string;
    t: string;
    p?: unknown;
    j?: Record<string, unknown>;
    c?: 1;
    n?: PointTuple[];
  };
  if (!message.t.startsWith(JOB_PREFIX)) {
    return { origin: message.o, topic: message.t, payload: message.p } as PlainEvent;
  }
  const topic = message.t as `job:${string}`;
  const jobId = topic.slice(JOB_PREFIX.length);
  if (!message.j) throw new Error(`an event on ${topic} without the job's row`);
  return {
    origin: message.o,
    topic,
    jobId,
    job: reviveJob(message.j),
    ...(message.c ? { errorMessageCut: true as const } : {}),
    newPoints: (message.n ?? []).map(([step, epoch, loss, valLoss, learningRate, at]) => ({
      jobId,
      step,
      epoch,
      loss,
      valLoss,
      learningRate,
      recordedAt: new Date(at),
    })),
  };
}

function reviveJob(raw: Record<string, unknown>): TrainingJobRow {
  const row = { ...raw };
  for (const key of DATE_FIELDS) {
    const value = row[key];
    if (typeof value === 'string') row[key] = new Date(value);
  }
  return row as TrainingJobRow;
}
