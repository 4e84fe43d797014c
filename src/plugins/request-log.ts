import { type DocumentNode, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { requestRecordOf } from '../http/request-log.ts';
import type { NodeServerContext } from '../http/sse/event-stream-limits.ts';

/**
 * Tells the access-log line of a request served by node:http (http/request-log.ts) which
 * operation it ran: the name the client sent, or the one of the document's only operation.
 */
export function useOperationNames(): Plugin {
  return {
    onParams({ params, context }) {
      noteOperationName(context, () => params.operationName);
    },
    onExecute({ args }) {
      noteOperationName(args.contextValue, () =>
        operationNameOf(args.document, args.operationName),
      );
    },
    onSubscribe({ args }) {
      noteOperationName(args.contextValue, () =>
        operationNameOf(args.document, args.operationName),
      );
    },
  };
}

/** The operation `operationName` picks from `document`, by its name (the client may send none). */
export const operationNameOf = (document: DocumentNode, operationName?: string | null) =>
  getOperationAST(document, operationName)?.name?.value;

/** Notes the request's operation name on its access-log line, unless it has one already. */
export function noteOperationName(serverContext: unknown, name: () => string | null | undefined) {
  const record = requestRecordOf((serverContext as NodeServerContext).req);
  if (record && record.operationName === undefined) record.operationName = name() ?? undefined;
}
