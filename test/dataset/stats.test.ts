import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { importLines } from '../../src/dataset/import.ts';
import { countTrainingData, trainingChunks } from '../../src/dataset/stats.ts';
import { codes, createTestApp, ok, type TestApp, VIEWER_TOKEN } from '../support/app.ts';
import { record } from './helpers.ts';

let app: TestApp;
beforeEach(async () => {
  app = await createTestApp();
});
afterEach(() => app.close());

const words = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

/** 3 NW (2 trainable, one with 2 chunks), 2 BY (1 trainable), 1 HH erlass. */
const DOCS = [
  record({ bundesland: 'NW', docType: 'verordnung', text: words(250, 'a') }),
  record({ bundesland: 'NW', docType: 'verordnung' }),
  record({ bundesland: 'NW', docType: 'handreichung', trainingAllowed: false }),
  record({ bundesland: 'BY', docType: 'schulordnung' }),
  record({ bundesland: 'BY', docType: 'handreichung', trainingAllowed: false }),
  record({ bundesland: 'HH', docType: 'erlass' }),
];

async function load(docs = DOCS) {
  async function* lines() {
    yield* docs.map((d) => JSON.stringify(d));
  }
  return importLines(app.database.db, lines(), { batchSize: 4 });
}

const STATS = `query ($states: [String!]) {
  datasetStats(bundeslaender: $states) {
    totalDocuments totalChunks trainingAllowed trainingAllowedChunks
    byBundesland { key count } byDocType { key count }
  }
}`;

type Stats = {
  totalDocuments: number;
  totalChunks: number;
  trainingAllowed: number;
  trainingAllowedChunks: number;
  byBundesland: { key: string; count: number }[];
  byDocType: { key: string; count: number }[];
};

const asMap = (list: { key: string; count: number }[]) =>
  Object.fromEntries(list.filter((e) => e.count > 0).map((e) => [e.key, e.count]));

describe('datasetStats', () => {
  test('an empty database: zeros for every state and type', async () => {
    const { datasetStats } = ok(
      await app.gql<{ datasetStats: Stats }>(STATS, {}, { token: VIEWER_TOKEN }),
    );
    expect(datasetStats).toMatchObject({ totalDocuments: 0, totalChunks: 0, trainingAllowed: 0 });
    expect(datasetStats.byBundesland).toHaveLength(16);
    expect(datasetStats.byDocType.map((e) => e.key)).toEqual([
      'verordnung',
      'schulordnung',
      'handreichung',
      'erlass',
    ]);
  });

  test('counts what was imported, all states or filtered', async () => {
    await load();
    const all = ok(
      await app.gql<{ datasetStats: Stats }>(STATS, {}, { token: VIEWER_TOKEN }),
    ).datasetStats;
    expect(all).toMatchObject({
      totalDocuments: 6,
      totalChunks: 7,
      trainingAllowed: 4,
      trainingAllowedChunks: 5,
    });
    expect(asMap(all.byBundesland)).toEqual({ NW: 3, BY: 2, HH: 1 });
    expect(asMap(all.byDocType)).toEqual({
      verordnung: 2,
      handreichung: 2,
      schulordnung: 1,
      erlass: 1,
    });

    const some = ok(
      await app.gql<{ datasetStats: Stats }>(STATS, { states: ['BY', 'NW', 'SL'] }),
    ).datasetStats;
    expect(some).toMatchObject({
      totalDocuments: 5,
      totalChunks: 6,
      trainingAllowed: 3,
      trainingAllowedChunks: 4,
    });
    expect(some.byBundesland).toEqual([
      { key: 'BY', count: 2 },
      { key: 'NW', count: 3 },
      { key: 'SL', count: 0 },
    ]);
    expect(asMap(some.byDocType)).toEqual({ verordnung: 2, handreichung: 2, schulordnung: 1 });

    const none = ok(await app.gql<{ datasetStats: Stats }>(STATS, { states: [] })).datasetStats;
    expect(none.totalDocuments).toBe(0);
  });

  test('an unknown state code is BAD_USER_INPUT on bundeslaender', async () => {
    const result = await app.gql(STATS, { states: ['NW', 'XY'] });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('bundeslaender');
    expect(result.errors?.[0]?.message).toMatch(/XY/);
  });

  test('needs a token', async () => {
    expect(codes(await app.gql(STATS, {}, { token: null }))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('training data for the trainer', () => {
  test('training-allowed chunks of the states, labelled by type, in a stable order', async () => {
    await load();
    expect(await countTrainingData(app.database.db, ['NW', 'BY'])).toEqual({
      documents: 3,
      chunks: 4,
    });
    const examples = await trainingChunks(app.database.db, ['NW', 'BY']);
    expect(examples).toHaveLength(4);
    expect(examples.map((e) => e.label).sort()).toEqual([
      'schulordnung',
      'verordnung',
      'verordnung',
      'verordnung',
    ]);
    expect(examples.some((e) => e.text.includes('a249'))).toBe(true);
    expect(await trainingChunks(app.database.db, ['SL'])).toEqual([]);
  });

  test('the order depends on the documents, not on the order they were imported in', async () => {
    await load([...DOCS].reverse());
    const reversed = await trainingChunks(app.database.db, ['NW', 'BY', 'HH']);
    const other = await createTestApp();
    try {
      async function* lines() {
        yield* DOCS.map((d) => JSON.stringify(d));
      }
      await importLines(other.database.db, lines());
      expect(await trainingChunks(other.database.db, ['NW', 'BY', 'HH'])).toEqual(reversed);
    } finally {
      await other.close();
    }
  });
});

describe('documents', () => {
  const PAGE = `query ($first: Int, $after: String, $bundesland: String, $docType: String) {
    documents(first: $first, after: $after, bundesland: $bundesland, docType: $docType) {
      edges { cursor node { id title bundesland docType trainingAllowed source chunkCount createdAt text } }
      pageInfo { hasNextPage endCursor }
    }
  }`;
  type Page = {
    documents: {
      edges: {
        node: {
          id: string;
          title: string;
          bundesland: string;
          docType: string;
          chunkCount: number;
        };
      }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  };

  test('pages newest first, filters, and resolves as nodes', async () => {
    await load();
    const titles: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Page = ok(
        await app.gql<Page>(PAGE, { first: 4, after }, { token: VIEWER_TOKEN }),
      );
      titles.push(...page.documents.edges.map((e) => e.node.title));
      if (!page.documents.pageInfo.hasNextPage) break;
      after = page.documents.pageInfo.endCursor;
    }
    expect(titles).toEqual(DOCS.map((d) => d.title).reverse());

    const nw = ok(await app.gql<Page>(PAGE, { bundesland: 'NW', docType: 'verordnung' }));
    expect(nw.documents.edges.map((e) => [e.node.title, e.node.chunkCount])).toEqual([
      [DOCS[1]?.title, 1],
      [DOCS[0]?.title, 2],
    ]);

    const id = nw.documents.edges[0]?.node.id;
    const node = ok(
      await app.gql<{ node: { title: string } }>(
        'query ($id: ID!) { node(id: $id) { ... on Document { title } } }',
        { id },
      ),
    );
    expect(node.node.title).toBe(DOCS[1]?.title);
  });

  test('bad filters are BAD_USER_INPUT naming the argument', async () => {
    for (const [vars, field] of [
      [{ bundesland: 'nw' }, 'bundesland'],
      [{ docType: 'gesetz' }, 'docType'],
      [{ first: 101 }, 'first'],
      [{ after: 'garbage' }, 'after'],
    ] as const) {
      const result = await app.gql(PAGE, vars);
      expect(codes(result), JSON.stringify(vars)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.field).toBe(field);
    }
  });
});
