import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { requestRecordOf } from '../http/request-log.ts';
import type { NodeServerContext } from '../http/sse/event-stream-limits.ts';

/**
 * Tells the access-log line of a request served by node:http (http/request-log.ts) which
 * operation it ran: the name the client sent, or the one of the document's only operation.
 */
export function useOperationNames(): Plugin {
  const note = (serverContext: unknown, name: () => string | null | undefined) => {
    const record = requestRecordOf((serverContext as NodeServerContext).req);
    if (record && record.operationName === undefined) record.operationName = name() ?? undefined;
  };
  return {
    onParams({ params, context }) {
      note(context, () => params.operationName);
    },
    onExecute({ args }) {
      note(
        args.contextValue,
        () => getOperationAST(args.document, args.operationName)?.name?.value,
      );
    },
    onSubscribe({ args }) {
      note(
        args.contextValue,
        () => getOperationAST(args.document, args.operationName)?.name?.value,
      );
    },
  };
}
