import {
  ApolloClient,
  ApolloLink,
  gql,
  HttpLink,
  InMemoryCache,
  type OperationVariables,
} from '@apollo/client/core';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { fetchExchange, subscriptionExchange, Client as UrqlClient } from '@urql/core';
import { print } from 'graphql';
import { createClient, type Client as SseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { encodeGlobalID } from '../src/schema/global-ids.ts';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './support/app.ts';
import { newJob } from './support/fixtures.ts';
import { type ServedApp, serveApp } from './support/http.ts';
import { FakeRunner } from './support/runner.ts';
import { PROGRESS_SUBSCRIPTION, type ProgressEvent } from './support/sse.ts';

// The set-ups below are the ones docs/subscriptions.md shows, against the in-process app.

let app: TestApp;
let runner: FakeRunner;
let sse: SseClient<true>;
const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
beforeEach(async () => {
  app = await createTestApp({ trainingData: true });
  runner = new FakeRunner(app.database.db, app.events);
  sse = createClient({
    url: 'http://test/graphql/stream',
    fetchFn: app.yoga.fetch,
    headers,
    singleConnection: true,
    retryAttempts: 0,
  });
});
afterEach(async () => {
  sse.dispose();
  await app.close();
});

const JOB_QUERY = 'query Job($id: ID!) { trainingJob(id: $id) { id name status } }';
type Update = ProgressEvent['trainingProgress'];

/** The updates a client received; `seen` waits for one with a status. */
class Updates {
  readonly list: Update[] = [];
  readonly #waiters = new Set<() => void>();

  push(update: Update): void {
    this.list.push(update);
    for (const wake of [...this.#waiters]) wake();
  }

  seen(status: string): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!this.list.some((u) => u.job.status === status)) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }
}

/** Drives a job from QUEUED to CANCELLED with points, while the client's updates arrive. */
async function driveJob(jobId: string, updates: Updates, ended: Promise<void>) {
  await updates.seen('QUEUED');
  await runner.start(jobId);
  await updates.seen('TRAINING');
  await runner.step(jobId, 4);
  await runner.transition(jobId, 'cancel');
  await ended;
  expect(updates.list.flatMap((u) => u.newPoints.map((p) => p.step))).toEqual([1, 2, 3, 4]);
  expect(updates.list.at(-1)?.job.status).toBe('CANCELLED');
}

type SubscriptionTransport = Pick<SseClient<true> | WsClient, 'subscribe'>;

/** An urql client that queries over HTTP and subscribes over the given transport. */
function urqlClient(url: string, transport: SubscriptionTransport, fetchFn?: typeof fetch) {
  return new UrqlClient({
    url,
    fetch: fetchFn,
    fetchOptions: { headers },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: transport.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });
}

/** Reads a new job through urql, then follows its progress until the job ends. */
async function followWithUrql(client: UrqlClient, name: string) {
  const job = await newJob(app.database.db, name);
  const id = encodeGlobalID('TrainingJob', job.id);
  const read = await client.query(JOB_QUERY, { id }).toPromise();
  expect(read.data).toEqual({ trainingJob: { id, name, status: 'QUEUED' } });

  const updates = new Updates();
  let ended!: () => void;
  const done = new Promise<void>((resolve) => {
    ended = resolve;
  });
  client.subscription<ProgressEvent>(PROGRESS_SUBSCRIPTION, { jobId: id }).subscribe((r) => {
    if (r.error) throw r.error;
    // urql ends a stream by repeating its last result with hasNext: false.
    if (!r.hasNext) ended();
    else if (r.data) updates.push(r.data.trainingProgress);
  });
  await driveJob(job.id, updates, done);
}

/** Reads a new job through Apollo, follows its progress, and checks the cache followed it. */
async function followWithApollo(client: ApolloClient, name: string) {
  const job = await newJob(app.database.db, name);
  const id = encodeGlobalID('TrainingJob', job.id);
  const read = await client.query<{ trainingJob: unknown }, OperationVariables>({
    query: gql(JOB_QUERY),
    variables: { id },
  });
  expect(read.data?.trainingJob).toEqual({ __typename: 'TrainingJob', id, name, status: 'QUEUED' });

  const updates = new Updates();
  const done = new Promise<void>((resolve, reject) => {
    client
      .subscribe<ProgressEvent>({ query: gql(PROGRESS_SUBSCRIPTION), variables: { jobId: id } })
      .subscribe({
        next: (r) => {
          if (r.error) reject(r.error);
          if (r.data) updates.push(r.data.trainingProgress as Update);
        },
        complete: resolve,
        error: reject,
      });
  });
  await driveJob(job.id, updates, done);
  // The job entity in Apollo's cache followed the stream.
  const cached = client.cache.extract() as Record<string, unknown>;
  expect(cached[`TrainingJob:${id}`]).toMatchObject({ status: 'CANCELLED' });
}

describe('urql', () => {
  test('queries over HTTP and follows trainingProgress over graphql-sse', async () => {
    await followWithUrql(
      urqlClient('http://test/graphql', sse, app.yoga.fetch as typeof fetch),
      'urql',
    );
  });
});

/** An Apollo link that sends operations to graphql-sse. */
class SseLink extends ApolloLink {
  constructor(private readonly client: SseClient<boolean>) {
    super();
  }

  override request(operation: ApolloLink.Operation): Observable<ApolloLink.Result> {
    return new Observable((sink) =>
      this.client.subscribe(
        {
          query: print(operation.query),
          variables: operation.variables,
          operationName: operation.operationName,
        },
        {
          next: (result) => sink.next(result as ApolloLink.Result),
          complete: () => sink.complete(),
          error: (error) => sink.error(error),
        },
      ),
    );
  }
}

describe('Apollo Client', () => {
  test('queries over HTTP and follows trainingProgress over graphql-sse', async () => {
    const isSubscription = ({ query }: ApolloLink.Operation) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    };
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.split(
        isSubscription,
        new SseLink(sse),
        new HttpLink({
          uri: 'http://test/graphql',
          fetch: app.yoga.fetch as typeof fetch,
          headers,
        }),
      ),
    });
    await followWithApollo(client, 'apollo');
  });
});

describe('graphql-ws', () => {
  let served: ServedApp;
  let ws: WsClient;
  beforeEach(async () => {
    served = await serveApp(app);
    ws = createWsClient({
      url: `${served.origin.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket, // in browsers: leave it out
      connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
      retryAttempts: 0,
    });
  });
  afterEach(async () => {
    await ws.dispose();
    await served.close();
  });

  test('Apollo Client: queries and follows trainingProgress over GraphQLWsLink', async () => {
    const client = new ApolloClient({ cache: new InMemoryCache(), link: new GraphQLWsLink(ws) });
    await followWithApollo(client, 'apollo-ws');
  });

  test('urql: queries over HTTP and follows trainingProgress over graphql-ws', async () => {
    await followWithUrql(urqlClient(`${served.origin}/graphql`, ws), 'urql-ws');
  });
});
