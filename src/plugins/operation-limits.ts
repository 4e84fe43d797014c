import {
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../vocabulary/errors.ts';

export type OperationLimits = {
  /** Deepest field nesting. */
  maxDepth: number;
  /** Aliased fields in one operation. */
  maxAliases: number;
  /** Lexical tokens in one document (checked while parsing, before anything else). */
  maxTokens: number;
  /** Fields the operation may resolve, counting each list field's page size. */
  maxCost: number;
  /** The largest `first`/`last` a connection or list accepts. */
  maxPageSize: number;
};

const refused = (message: string, limit: string) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, limit } });

/** The page size a field asks for: a literal, a variable's default, or the worst case. */
function pageSize(
  field: FieldNode,
  operation: OperationDefinitionNode | undefined,
  max: number,
): number {
  const arg = field.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
  if (!arg) return 1;
  const literal = (value: ValueNode | undefined) =>
    value?.kind === Kind.INT ? Math.min(Number(value.value), max) : undefined;
  if (arg.value.kind === Kind.VARIABLE) {
    const name = arg.value.name.value;
    const definition = operation?.variableDefinitions?.find((v) => v.variable.name.value === name);
    return literal(definition?.defaultValue) ?? max;
  }
  return literal(arg.value) ?? 1;
}

/**
 * One walk over each operation computes depth, aliases and cost; fragments are followed (a
 * fragment cycle is already refused by the standard rules, and the visited set stops it here).
 */
function measure(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  operation: OperationDefinitionNode,
  maxPageSize: number,
  visiting: Set<string> = new Set(),
): { depth: number; aliases: number; cost: number } {
  let depth = 0;
  let aliases = 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) aliases += 1;
      if (selection.name.value.startsWith('__')) continue;
      const inner = selection.selectionSet
        ? measure(selection.selectionSet, fragments, operation, maxPageSize, visiting)
        : { depth: 0, aliases: 0, cost: 0 };
      depth = Math.max(depth, inner.depth + 1);
      aliases += inner.aliases;
      cost += 1 + pageSize(selection, operation, maxPageSize) * inner.cost;
    } else {
      const fragment =
        selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
      const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : undefined;
      if (!fragment || (name && visiting.has(name))) continue;
      if (name) visiting.add(name);
      const inner = measure(fragment.selectionSet, fragments, operation, maxPageSize, visiting);
      if (name) visiting.delete(name);
      depth = Math.max(depth, inner.depth);
      aliases += inner.aliases;
      cost += inner.cost;
    }
  }
  return { depth, aliases, cost };
}

export function operationLimitsRule(limits: OperationLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map(
      context
        .getDocument()
        .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d]),
    );
    return {
      OperationDefinition(operation) {
        const { depth, aliases, cost } = measure(
          operation.selectionSet,
          fragments,
          operation,
          limits.maxPageSize,
        );
        if (depth > limits.maxDepth) {
          context.reportError(
            refused(`Query depth ${depth} exceeds the limit of ${limits.maxDepth}`, 'maxDepth'),
          );
        }
        if (aliases > limits.maxAliases) {
          context.reportError(
            refused(`${aliases} aliases exceed the limit of ${limits.maxAliases}`, 'maxAliases'),
          );
        }
        if (cost > limits.maxCost) {
          context.reportError(
            refused(
              `Query cost ${cost} exceeds the limit of ${limits.maxCost} (each field costs 1, times the page size of the lists around it)`,
              'maxCost',
            ),
          );
        }
      },
    };
  };
}

/** Refuses oversized or overly expensive operations before they execute. */
export function useOperationLimits(limits: OperationLimits): Plugin {
  return {
    onParse({ setParseFn, parseFn }) {
      setParseFn((source, options) => parseFn(source, { ...options, maxTokens: limits.maxTokens }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(operationLimitsRule(limits));
    },
  };
}
