import { Repeater } from '@repeaterjs/repeater';
import type { Db } from '../db/client.ts';
import type { OcrEvent } from '../events/ocr-events.ts';
import { type AppEvents, ocrTopic } from '../events/topics.ts';
import { batchSnapshot } from './batches.ts';
import { completeEvent, progressEvent } from './events.ts';

/**
 * A batch's events for one subscriber: the images already done (replayed from the database), then
 * the rest as they finish, then the completion; then it ends. It listens before it reads, so that
 * nothing finished in between is lost, and drops what it has already sent (by image index).
 */
export function watchBatch(
  db: Db,
  events: AppEvents,
  batchId: string,
): AsyncIterableIterator<OcrEvent> {
  return new Repeater<OcrEvent>(async (push, stop) => {
    const sent = new Set<number>();
    const send = (event: OcrEvent) => {
      if (event.kind === 'progress') {
        if (sent.has(event.result.index)) return;
        sent.add(event.result.index);
      }
      void push(event);
      if (event.kind === 'complete') stop();
    };
    let buffered: OcrEvent[] | null = [];
    const unsubscribe = events.subscribe(ocrTopic(batchId), (event) => {
      if (buffered) buffered.push(event);
      else send(event);
    });
    try {
      const snapshot = await batchSnapshot(db, batchId);
      if (!snapshot) throw new Error(`OCR batch ${batchId} does not exist`);
      for (const result of snapshot.results) send(progressEvent(snapshot.batch, result));
      if (snapshot.batch.status === 'COMPLETED') send(completeEvent(snapshot.batch));
      for (const event of buffered) send(event);
      buffered = null;
      await stop;
    } finally {
      unsubscribe();
    }
  });
}
