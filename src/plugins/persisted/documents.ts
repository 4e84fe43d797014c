import { useAPQ } from '@graphql-yoga/plugin-apq';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { DocumentNode, GraphQLError } from 'graphql';
import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';
import type { PersistedDocumentsConfig } from '../../config.ts';
import { ErrorCode } from '../../vocabulary/errors.ts';
import { BoundedDocumentStore } from './apq-store.ts';
import { TrustedDocuments } from './manifest.ts';

/** What a client may send for its document besides (or instead of) its text. */
export type DocumentParams = {
  query?: GraphQLParams['query'];
  extensions?: Record<string, unknown> | null;
  documentId?: unknown;
};

/**
 * Which documents run, and the documents clients send by id.
 * - `plugins` serve yoga's `/graphql` (queries, mutations, yoga's SSE and the fast path): a
 *   document asked for by id is looked up in yoga's `onParams`; in trusted-documents mode an
 *   unlisted text is refused on every transport (also graphql-sse on `/graphql/stream` and
 *   graphql-ws), see useListedOnly.
 * - `documentOf` does the lookup for graphql-ws, whose messages never pass yoga's `onParams`.
 *   (graphql-sse's protocol requires the text, so it has no lookup.)
 */
export type PersistedDocuments = {
  plugins: Plugin[];
  /** The text of a document sent by id (or its own text); throws PERSISTED_QUERY_NOT_FOUND. */
  documentOf(params: DocumentParams): string;
  trusted: boolean;
};

/** The id a request names its document by: APQ's `extensions.persistedQuery.sha256Hash`, or `documentId`. */
export function documentIdOf(params: DocumentParams): string | null {
  const persisted = params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  if (typeof persisted?.sha256Hash === 'string') return persisted.sha256Hash;
  return typeof params.documentId === 'string' ? params.documentId : null;
}

/** APQ's error (message and code): Apollo's and urql's persisted-query links retry with the text on it. */
export const persistedQueryNotFound = () =>
  createGraphQLError('PersistedQueryNotFound', {
    extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_FOUND, http: { status: 404 } },
  });

const notTrusted = () =>
  createGraphQLError(
    'Only trusted documents run on this server (TRUSTED_DOCUMENTS): send one of them, by id or as listed',
    {
      extensions: {
        code: ErrorCode.FORBIDDEN,
        reason: 'PERSISTED_QUERY_ONLY',
        http: { status: 403 },
      },
    },
  );

const noDocument = () =>
  createGraphQLError('Send a query, or the id of a trusted document (documentId)', {
    extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
  });

/** A request's own text, or the one its id names. */
const lookingUp =
  (find: (id: string) => string | null | undefined) =>
  (params: DocumentParams): string => {
    if (params.query) return params.query;
    const id = documentIdOf(params);
    if (id === null) throw noDocument();
    const text = find(id);
    if (!text) throw persistedQueryNotFound();
    return text;
  };

export function createPersistedDocuments(config: PersistedDocumentsConfig): PersistedDocuments {
  if (config.trustedDocuments)
    return trustedOnly(TrustedDocuments.fromFile(config.trustedDocuments));
  return automaticPersistedQueries(config.apqStoreBytes);
}

/** TRUSTED_DOCUMENTS mode: listed documents only, by id or as their listed text. */
export function trustedOnly(trusted: TrustedDocuments): PersistedDocuments {
  return {
    trusted: true,
    plugins: [
      usePersistedOperations({
        // A listed text sent in full passes here; useListedOnly refuses the others.
        allowArbitraryOperations: true,
        extractPersistedOperationId: documentIdOf,
        getPersistedOperation: (id) => trusted.document(id) ?? null,
        customErrors: { notFound: persistedQueryNotFound, keyNotFound: noDocument },
      }),
      useListedOnly(trusted),
    ],
    documentOf: lookingUp((id) => trusted.document(id)),
  };
}

/**
 * Refuses to run a document whose text is not listed, on every transport: the texts are told
 * apart where they are parsed (yoga's `/graphql`, graphql-sse and graphql-ws all parse through
 * envelop), and the refusal is a result, so that each transport sends it as it sends any
 * (graphql-sse would answer an error thrown while parsing with a bare 500).
 */
function useListedOnly(trusted: TrustedDocuments): Plugin {
  const listed = new WeakSet<DocumentNode>();
  const refuseUnlisted = ({ args, setResultAndStopExecution }: RunHook) => {
    if (!listed.has(args.document))
      setResultAndStopExecution({ data: null, errors: [notTrusted()] });
  };
  return {
    onParse({ params }) {
      const text = typeof params.source === 'string' ? params.source : params.source.body;
      if (!trusted.lists(text)) return;
      return ({ result }) => {
        if (result && !(result instanceof Error)) listed.add(result);
      };
    },
    onExecute: refuseUnlisted,
    onSubscribe: refuseUnlisted,
  };
}

type RunHook = {
  args: { document: DocumentNode };
  setResultAndStopExecution(result: { data: null; errors: GraphQLError[] }): void;
};

/**
 * Any document runs; with a store (APQ_STORE_BYTES > 0), a client may send a hash alone once it
 * has sent the text with its hash (Automatic Persisted Queries, yoga's plugin).
 */
function automaticPersistedQueries(storeBytes: number): PersistedDocuments {
  const store = storeBytes > 0 ? new BoundedDocumentStore(storeBytes) : null;
  return {
    trusted: false,
    plugins: store ? [useAPQ({ store })] : [],
    documentOf: lookingUp((id) => store?.get(id)),
  };
}
