import { timingSafeEqual } from 'node:crypto';
import { createCounter, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { DocumentNode, ExecutionResult, OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Counter, Histogram, Registry } from 'prom-client';
import { accessDenied, authenticate } from '../auth/request-auth.ts';
import { bearerToken, type TokenStore } from '../auth/tokens.ts';
import { errorDocument } from '../http/refusals.ts';
import { ErrorCode } from '../vocabulary/errors.ts';
import { errorCodeOf } from './contract-errors.ts';
import type { AppMetrics } from './metrics.ts';

export const METRICS_ENDPOINT = '/metrics';

const REQUEST = 'graphql_envelop_request';
const REQUEST_DURATION = 'graphql_envelop_request_duration';
const ERROR_RESULT = 'graphql_envelop_error_result';

export type MetricsEndpointOptions = {
  metrics: AppMetrics;
  tokens: TokenStore | 'disabled';
  /** METRICS_TOKEN: a scraper's token that is no API token. */
  metricsToken: string | undefined;
};

/**
 * `GET /metrics` in Prometheus' text format, for a token with the admin role or METRICS_TOKEN;
 * and yoga's Prometheus plugin counting operations and their durations by operation name, and
 * errors by their contract code, into the app's registry.
 */
export function useMetrics({ metrics, tokens, metricsToken }: MetricsEndpointOptions): Plugin {
  const { registry } = metrics;
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(
        usePrometheus({
          registry,
          endpoint: false,
          skipIntrospection: true,
          metrics: {
            [REQUEST]: true,
            [REQUEST_DURATION]: true,
            [ERROR_RESULT]: createCounter({
              registry,
              counter: {
                name: ERROR_RESULT,
                help: 'Errors in GraphQL results by operation and contract code',
                labelNames: ['operationName', 'operationType', 'phase', 'code'],
              },
              fillLabelsFn: errorResultLabels,
            }),
            graphql_envelop_request_time_summary: false,
            graphql_envelop_deprecated_field: false,
            graphql_envelop_phase_parse: false,
            graphql_envelop_phase_validate: false,
            graphql_envelop_phase_context: false,
            graphql_envelop_phase_execute: false,
            graphql_envelop_phase_subscribe: false,
            graphql_envelop_schema_change: false,
            // the access log has every request; its `url` label would be one series per URL
            graphql_yoga_http_duration: false,
          },
        }),
      );
    },
    onRequest({ url, request, fetchAPI, endResponse }) {
      if (url.pathname !== METRICS_ENDPOINT || request.method !== 'GET') return;
      const refusal = refusalOf(request, tokens, metricsToken);
      if (refusal) {
        endResponse(
          new fetchAPI.Response(errorDocument(refusal.message, { code: refusal.code }), {
            status: refusal.httpStatus,
            headers: { 'content-type': 'application/json; charset=utf-8' },
          }),
        );
        return;
      }
      return registry.metrics().then((text) => {
        endResponse(
          new fetchAPI.Response(text, { headers: { 'content-type': registry.contentType } }),
        );
      });
    },
  };
}

type ErrorResultParams = {
  operationName?: string;
  operationType?: string;
  errorPhase?: string;
  error?: unknown;
};

const errorResultLabels = (params: ErrorResultParams) => ({
  operationName: params.operationName ?? 'Anonymous',
  operationType: params.operationType ?? 'unknown',
  phase: params.errorPhase ?? 'unknown',
  // a failed validation is counted once, without its errors: the client's (withCode)
  code: params.error ? errorCodeOf(params.error) : ErrorCode.BAD_USER_INPUT,
});

/**
 * Counts a subscription that ran without envelop (the fast set-up, http/sse/fast-setup.ts) as the
 * Prometheus plugin above counts one: the errors of each result it sends (the first; on both paths
 * the fan-out's are not counted), then, when it ends (at the hand-over to the fan-out), the
 * request and its duration. The labels are the plugin's: the operation name the client sent or
 * the document's, and the type of the document's first definition.
 */
export function countSubscription(
  registry: Registry,
  document: DocumentNode,
  operationName: string | null | undefined,
): { result(result: ExecutionResult): void; end(): void } {
  const startedAt = Date.now();
  const first = document.definitions[0] as OperationDefinitionNode;
  const labels = {
    operationName: operationName || first.name?.value || 'Anonymous',
    operationType: first.operation,
  };
  return {
    result(result) {
      const counter = registry.getSingleMetric(ERROR_RESULT) as Counter | undefined;
      for (const error of result.errors ?? []) {
        counter?.inc(errorResultLabels({ ...labels, errorPhase: 'execute', error }));
      }
    },
    end() {
      (registry.getSingleMetric(REQUEST) as Counter | undefined)?.inc(labels);
      (registry.getSingleMetric(REQUEST_DURATION) as Histogram | undefined)?.observe(
        labels,
        (Date.now() - startedAt) / 1000,
      );
    },
  };
}

/** Why a request may not read the metrics, or null if it may. */
function refusalOf(
  request: Request,
  tokens: TokenStore | 'disabled',
  metricsToken: string | undefined,
) {
  const given = bearerToken(request.headers.get('authorization'));
  if (metricsToken && given && sameText(given, metricsToken)) return null;
  const auth = authenticate(request, tokens);
  return auth.role === 'admin' ? null : accessDenied(auth);
}

function sameText(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}
