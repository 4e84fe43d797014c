import { type DocumentNode, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { noteOperationName } from '../http/request-log.ts';
import type { NodeServerContext } from '../http/sse/event-stream-limits.ts';

/**
 * Tells the access-log line of a request served by node:http (http/request-log.ts) which
 * operation it ran: the name the client sent, or the one of the document's only operation.
 */
export function useOperationNames(): Plugin {
  return {
    onParams({ params, context }) {
      noteOperationName(requestOf(context), () => params.operationName);
    },
    onExecute({ args }) {
      noteOperationName(requestOf(args.contextValue), () =>
        operationNameOf(args.document, args.operationName),
      );
    },
    onSubscribe({ args }) {
      noteOperationName(requestOf(args.contextValue), () =>
        operationNameOf(args.document, args.operationName),
      );
    },
  };
}

/** The operation `operationName` picks from `document`, by its name (the client may send none). */
export const operationNameOf = (document: DocumentNode, operationName?: string | null) =>
  getOperationAST(document, operationName)?.name?.value;

const requestOf = (context: unknown) => (context as NodeServerContext).req;
