import { describe, expect, test } from 'vitest';
import { EngineClosedError } from '../../src/ocr/engine.ts';
import { WorkerPool } from '../../src/ocr/worker-pool.ts';

type FakeWorker = { id: number; tag: string; alive: boolean; destroyed: boolean };

/** A pool of fake workers whose creation and tasks the test releases by hand. */
function fakePool(size: number) {
  const created: FakeWorker[] = [];
  const pool = new WorkerPool<FakeWorker>({
    size,
    create: async () => {
      const worker = { id: created.length, tag: 'a', alive: true, destroyed: false };
      created.push(worker);
      return worker;
    },
    destroy: async (worker) => {
      worker.destroyed = true;
    },
    usable: (worker) => worker.alive,
  });
  return { pool, created };
}

/** A task that waits until the test calls `finish`. */
function gate() {
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { finish, done };
}

describe('WorkerPool', () => {
  test('starts nothing until asked, then no more workers than its size', async () => {
    const { pool, created } = fakePool(2);
    expect(created).toHaveLength(0);
    const gates = [gate(), gate(), gate()];
    const ran: number[][] = [];
    const tasks = gates.map((g, i) =>
      pool.run(async (worker) => {
        ran.push([i, worker.id]);
        await g.done;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(created).toHaveLength(2);
    expect(ran.map(([task]) => task)).toEqual([0, 1]);
    gates[0]?.finish();
    await tasks[0];
    await new Promise((resolve) => setImmediate(resolve));
    // the third task got the worker the first one freed; no third worker
    expect(ran[2]).toEqual([2, ran[0]?.[1]]);
    expect(created).toHaveLength(2);
    gates[1]?.finish();
    gates[2]?.finish();
    await Promise.all(tasks);
    await pool.close();
  });

  test('keeps workers for the next task and prefers an idle one that fits', async () => {
    const { pool, created } = fakePool(2);
    const both = [gate(), gate()];
    const first = both.map((g) => pool.run(() => g.done));
    await new Promise((resolve) => setImmediate(resolve));
    for (const g of both) g.finish();
    await Promise.all(first);
    const [a, b] = created;
    if (!a || !b) throw new Error('two workers expected');
    b.tag = 'b';
    expect(
      await pool.run(
        async (w) => w.id,
        (w) => w.tag === 'b',
      ),
    ).toBe(b.id);
    expect(
      await pool.run(
        async (w) => w.id,
        (w) => w.tag === 'a',
      ),
    ).toBe(a.id);
    expect(created).toHaveLength(2);
    await pool.close();
  });

  test('replaces a worker that died during a task', async () => {
    const { pool, created } = fakePool(1);
    await expect(
      pool.run(async (worker) => {
        worker.alive = false;
        throw new Error('thread exited');
      }),
    ).rejects.toThrow('thread exited');
    expect(await pool.run(async (worker) => worker.id)).toBe(1);
    expect(created[0]?.destroyed).toBe(true);
    await pool.close();
  });

  test('close rejects waiting tasks and destroys every worker', async () => {
    const { pool, created } = fakePool(1);
    const running = gate();
    const first = pool.run(() => running.done);
    const waiting = pool.run(async () => 'never');
    await new Promise((resolve) => setImmediate(resolve));
    const closed = pool.close();
    await expect(waiting).rejects.toBeInstanceOf(EngineClosedError);
    await closed;
    expect(created.every((w) => w.destroyed)).toBe(true);
    await expect(pool.run(async () => 'late')).rejects.toBeInstanceOf(EngineClosedError);
    running.finish();
    await first;
  });
});
