/**
 * Trace context across JSON-RPC over HTTP (docs/observability.md). A request of one call carries
 * the W3C `traceparent` of the call's client span. A batch (the executor's StoreBatcher puts the
 * calls of several tasks, so of several traces, into one request) carries the first call's in
 * `traceparent` and every call's, in call order, in RPC_TRACEPARENTS_HEADER, so that each of
 * the store's call spans hangs under its own caller.
 */
import type { ObservedCall, ObservedResponse, StoreRequestHook } from '@tasks/contracts';
import { SpanStatusCode, type Context } from '@opentelemetry/api';
import { isTraceparent, SpanKind, startSpan, traceparentOfSpan, tracingOn, withContext } from './spans.js';

export const RPC_TRACEPARENTS_HEADER = 'x-jsonrpc-traceparents';

/** Attributes of a JSON-RPC call span (OpenTelemetry RPC semantic conventions). */
export function rpcAttributes(method: string): Record<string, string> {
  return { 'rpc.system': 'jsonrpc', 'rpc.method': method, 'rpc.jsonrpc.version': '2.0' };
}

/** The TaskStoreClient hook that gives every call a client span and sends its trace context along. */
export function traceStoreRequests(serverAddress?: string): StoreRequestHook {
  return async (calls, headers, send) => {
    if (!tracingOn()) return send();
    const spans = calls.map((c: ObservedCall) =>
      startSpan(c.method, {
        kind: SpanKind.CLIENT,
        attributes: {
          ...rpcAttributes(c.method),
          ...(serverAddress && { 'server.address': serverAddress }),
          ...(calls.length > 1 && { 'rpc.jsonrpc.batch_size': calls.length }),
        },
        parent: c.trace as Context | undefined,
      }),
    );
    const parents = spans.map((s) => (s ? traceparentOfSpan(s) : ''));
    if (parents[0]) headers.traceparent = parents[0];
    if (calls.length > 1) headers[RPC_TRACEPARENTS_HEADER] = parents.join(',');
    try {
      // The request itself runs in the first call's context (an HTTP instrumentation would nest there).
      const responses = await withContext(undefined, send);
      endCallSpans(calls, spans, responses);
      return responses;
    } catch (err) {
      for (const s of spans) {
        s?.recordException(err as Error);
        s?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
        s?.end();
      }
      throw err;
    }
  };
}

function endCallSpans(
  calls: readonly ObservedCall[],
  spans: ReturnType<typeof startSpan>[],
  responses: ObservedResponse,
): void {
  const byId = new Map(responses.map((r) => [r.id, r]));
  calls.forEach((c, i) => {
    const span = spans[i];
    if (!span) return;
    const error = (byId.get(c.id) ?? (responses.length === 1 ? responses[0] : undefined))?.error;
    if (error) {
      span.setAttribute('rpc.jsonrpc.error_code', error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    span.end();
  });
}

/**
 * The trace context each call of a request came with, by position: the per-call header of a
 * batch, else the request's `traceparent` for every call. Read without the SDK, so that the store
 * keeps a task's creating traceparent even with its own tracing off.
 */
export function callTraceparents(
  headers: Record<string, string | string[] | undefined>,
  count: number,
): (string | undefined)[] {
  const single = headers.traceparent;
  const fallback = typeof single === 'string' && isTraceparent(single) ? single : undefined;
  const list = headers[RPC_TRACEPARENTS_HEADER];
  const perCall = typeof list === 'string' ? list.split(',', count) : [];
  return Array.from({ length: count }, (_, i) => {
    const tp = perCall[i]?.trim();
    return tp && isTraceparent(tp) ? tp : fallback;
  });
}
