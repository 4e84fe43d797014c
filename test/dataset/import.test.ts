import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { importLines, importStream } from '../../src/dataset/import.ts';
import type { Line } from '../../src/dataset/lines.ts';
import { executeRows } from '../../src/db/raw.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { onPostgres } from '../support/databases.ts';
import { bytes, jsonl, record } from './helpers.ts';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(() => app.close());

const db = () => app.database.db;

async function* lines(list: string[]): AsyncGenerator<Line> {
  yield* list;
}

/** Documents and chunks as stored, and whether each document has exactly its chunks. */
async function stored() {
  const [row] = await executeRows<{ documents: number; chunks: number; broken: number }>(
    db(),
    sql`select
      (select count(*) from documents)::int as documents,
      (select count(*) from chunks)::int as chunks,
      (select count(*) from documents d
        where d.chunk_count <> (select count(*) from chunks c where c.document_id = d.id))::int as broken`,
  );
  return row;
}

describe('importing JSON Lines', () => {
  test('good lines load with their chunks; bad lines are rejected with number and reason', async () => {
    const long = Array.from({ length: 450 }, (_, i) => `Wort${i}`).join(' ');
    const input = jsonl([
      record({ text: long }),
      '{"title": "kaputt"',
      record({ bundesland: 'XX' }),
      '',
      record({ text: '   ' }),
      record({ trainingAllowed: 'ja' }),
      record({ docType: 'gesetz' }),
      '[1, 2]',
      record({ title: 42, source: null }),
      record({ source: undefined }),
      { ...record(), title: undefined },
    ]);
    const result = await importStream(db(), bytes(input));
    expect(result).toMatchObject({ added: 2, skipped: 0, rejected: 8 });
    expect(result.errors).toEqual([
      expect.stringMatching(/^line 2: not valid JSON/),
      'line 3: bundesland must be one of BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH',
      'line 5: text must not be empty',
      'line 6: trainingAllowed must be true or false',
      'line 7: docType must be one of verordnung schulordnung handreichung erlass',
      'line 8: a line must be a JSON object',
      'line 9: title must be a string',
      'line 11: title is required',
    ]);
    expect(await stored()).toEqual({ documents: 2, chunks: 3 + 1, broken: 0 });
  });

  test('the same text is stored once: within a file, across imports, and re-formatted', async () => {
    const a = record();
    const input = jsonl([a, record(), { ...a, title: 'again' }]);
    expect(await importStream(db(), bytes(input))).toMatchObject({ added: 2, skipped: 1 });
    const reformatted = { ...a, text: ` ${a.text.replaceAll(' ', '\n  ')}\t` };
    expect(await importStream(db(), bytes(jsonl([reformatted, record()])))).toMatchObject({
      added: 1,
      skipped: 1,
    });
    expect((await stored())?.documents).toBe(3);
  });

  test('concurrent imports of one file store each document once', async () => {
    const input = jsonl(Array.from({ length: 60 }, () => record()));
    const results = await Promise.all(
      [1, 2, 3].map(() => importStream(db(), bytes(input, 500), { batchSize: 7 })),
    );
    expect(results.reduce((n, r) => n + r.added, 0)).toBe(60);
    expect(results.every((r) => r.added + r.skipped === 60 && r.rejected === 0)).toBe(true);
    expect(await stored()).toEqual({ documents: 60, chunks: 60, broken: 0 });
  });

  test('an import killed half-way leaves whole batches only', async () => {
    async function* failing(): AsyncGenerator<Line> {
      for (let i = 0; i < 25; i += 1)
        yield JSON.stringify(record({ text: `${'Satz '.repeat(300)}${i}` }));
      throw new Error('connection reset');
    }
    const progress: number[] = [];
    await expect(
      importLines(db(), failing(), { batchSize: 10, onProgress: (p) => progress.push(p.added) }),
    ).rejects.toThrow('connection reset');
    // two full batches committed; the five documents of the third never reached the database
    expect(progress).toEqual([10, 20]);
    expect(await stored()).toEqual({ documents: 20, chunks: 20 * 2, broken: 0 });
  });

  test('texts with tabs, line ends, backslashes, umlauts and COPY markers are stored exactly', async () => {
    const tricky = [
      'Spalte\teins\tzwei',
      'Zeile eins\nZeile zwei\r\nZeile drei',
      'Pfad C:\\Schule\\neu und \\N und \\t',
      'erste Zeile\n\\.\nnach dem Endezeichen',
      '\\.',
      'Größe, Maße, Übung, Straße: € „Anführung“ 😀',
    ];
    const records = tricky.map((text, i) =>
      record({ text, title: `${text} ${i}`, source: i % 2 ? null : `Quelle\t${text}` }),
    );
    expect(await importStream(db(), bytes(jsonl(records), 64))).toMatchObject({
      added: tricky.length,
      rejected: 0,
    });
    const rows = await executeRows<{
      title: string;
      text: string;
      source: string | null;
      chunk: string;
    }>(
      db(),
      sql`select d.title, d.text, d.source, c.text as chunk
        from documents d join chunks c on c.document_id = d.id order by d.seq`,
    );
    expect(rows).toEqual(
      records.map((r) => ({ title: r.title, text: r.text, source: r.source, chunk: r.text })),
    );
  });

  test('long texts are compressed with lz4 where the server has it, else as by default', async () => {
    const long = Array.from({ length: 2000 }, (_, i) => `Satz ${i % 7}`).join(' ');
    await importStream(db(), bytes(jsonl([record({ text: long })]), 4096));
    const [row] = await executeRows<{ method: string; lz4: boolean; fallback: string }>(
      db(),
      sql`select pg_column_compression(text) as method,
        'lz4' = any(enumvals) as lz4, boot_val as fallback
        from documents, pg_settings where name = 'default_toast_compression'`,
    );
    expect(row?.method).toBe(onPostgres() && row?.lz4 ? 'lz4' : row?.fallback);
  });

  test('NUL, which PostgreSQL text cannot hold, rejects the line only', async () => {
    const result = await importStream(
      db(),
      bytes(jsonl([record({ text: 'a\u0000b' }), record(), record({ source: '\u0000' })])),
    );
    expect(result).toMatchObject({ added: 1, rejected: 2 });
    expect(result.errors).toEqual([
      'line 1: text must not contain NUL (\\u0000)',
      'line 3: source must not contain NUL (\\u0000)',
    ]);
  });

  test('a batch the database refuses rolls back whole, fails the import and frees its connection', async () => {
    await db().execute(sql`alter table chunks add constraint refuse_all check (false) not valid`);
    const input = jsonl(Array.from({ length: 30 }, () => record()));
    await expect(importStream(db(), bytes(input, 4096), { batchSize: 10 })).rejects.toThrow();
    await db().execute(sql`alter table chunks drop constraint refuse_all`);
    expect(await stored()).toEqual({ documents: 0, chunks: 0, broken: 0 });
    // the connection went back to the pool in a usable state: the same import now succeeds
    expect(await importStream(db(), bytes(input, 4096), { batchSize: 10 })).toMatchObject({
      added: 30,
    });
  });

  test('a database failure stops the import with the error', async () => {
    await app.database.db.execute(sql`alter table chunks rename to chunks_gone`);
    await expect(importLines(db(), lines([JSON.stringify(record())]))).rejects.toThrow();
  });

  test('errors are bounded; counts are not', async () => {
    const input = Array.from({ length: 150 }, () => '{');
    const result = await importLines(db(), lines(input));
    expect(result.rejected).toBe(150);
    expect(result.errors).toHaveLength(100);
    expect(result.errors.at(-1)).toMatch(/^line 100: /);
  });

  test('an overlong line is rejected by number', async () => {
    const huge = JSON.stringify(record({ text: 'a '.repeat(3 * 1024 * 1024) }));
    const result = await importStream(db(), bytes(`${huge}\n${JSON.stringify(record())}`, 65536));
    expect(result.added).toBe(1);
    expect(result.errors).toEqual([expect.stringMatching(/^line 1: longer than 4194304 bytes/)]);
  });

  test('reads a web ReadableStream (an uploaded File)', async () => {
    const file = new File([jsonl([record(), record()])], 'x.jsonl');
    expect(await importStream(db(), file.stream())).toMatchObject({ added: 2 });
  });
});
