/**
 * HTTP front of the store: POST /rpc (JSON-RPC 2.0, optional bearer token, body size limit),
 * GET /healthz, GET /readyz (MongoDB answers a ping), GET /metrics.
 *
 * JSON-RPC answers go out with HTTP 200 (errors included, as the JSON-RPC-over-HTTP convention
 * has it) or 204 when every call was a notification. Only failures before JSON-RPC is reached
 * use other statuses: 401 (token), 413 (size), 415 (content type), 404/405 (wrong path/verb);
 * their bodies are still JSON-RPC error responses so any JSON-RPC client can read them.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import type jayson from 'jayson';
import { ERRORS, jsonDepthExceeds, MAX_JSON_DEPTH, rpcError, type ErrorType } from '@tasks/contracts';
import {
  answerClientErrors,
  applyHttpLimits,
  httpServerOptions,
  type HttpLimits,
} from '@tasks/service-runtime';
import { callTraceparents } from '@tasks/telemetry';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import type { CallContext } from '../rpc/rpc-server.js';
import { authenticate, type AcceptedTokens } from './bearer-auth.js';

export interface HttpDeps {
  rpc: jayson.Server;
  db: Db;
  metrics: Metrics;
  log: Logger;
  tokens: AcceptedTokens;
  maxBodyBytes: number;
  /** Most calls in one batch; a bigger batch is one INVALID_REQUEST error. */
  maxBatchCalls: number;
  limits: HttpLimits;
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendRpcError(res: ServerResponse, type: ErrorType, message: string): void {
  send(res, ERRORS[type].http, { jsonrpc: '2.0', id: null, error: rpcError(type, message) });
}

async function handleRpc(
  deps: HttpDeps,
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger,
): Promise<void> {
  deps.metrics.rpcRequests.inc({ kind: 'http', method: '' });
  const caller = authenticate(req.headers.authorization, deps.tokens);
  if (caller === undefined) {
    res.setHeader('www-authenticate', 'Bearer');
    return sendRpcError(res, 'UNAUTHORIZED', 'a valid bearer token is required');
  }
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/json') {
    return send(res, 415, {
      jsonrpc: '2.0',
      id: null,
      error: rpcError('INVALID_REQUEST', 'content-type must be application/json'),
    });
  }
  let text: string;
  try {
    text = await getRawBody(req, { limit: deps.maxBodyBytes, encoding: 'utf8' });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') {
      return sendRpcError(res, 'PAYLOAD_TOO_LARGE', `request body exceeds ${deps.maxBodyBytes} bytes`);
    }
    throw err;
  }
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch {
    return send(res, 200, {
      jsonrpc: '2.0',
      id: null,
      error: rpcError('PARSE_ERROR', 'request body is not valid JSON'),
    });
  }
  if (typeof request === 'string') {
    // jayson would parse a string a second time (and run a request encoded inside it).
    return send(res, 200, {
      jsonrpc: '2.0',
      id: null,
      error: rpcError('INVALID_REQUEST', 'not a request object'),
    });
  }
  if (jsonDepthExceeds(request, MAX_JSON_DEPTH)) {
    return send(res, 200, {
      jsonrpc: '2.0',
      id: null,
      error: rpcError('INVALID_REQUEST', `request nests deeper than ${MAX_JSON_DEPTH} levels`),
    });
  }
  if (Array.isArray(request) && request.length > deps.maxBatchCalls) {
    // Every call of a batch runs at once: the batch size bounds the work one request can start.
    return send(res, 200, {
      jsonrpc: '2.0',
      id: null,
      error: rpcError(
        'INVALID_REQUEST',
        `a batch may hold at most ${deps.maxBatchCalls} calls, not ${request.length}`,
      ),
    });
  }
  if (Array.isArray(request)) {
    // jayson never answers a batch entry that is itself an array; make it an ordinary invalid entry.
    request = request.map((entry: unknown) => (Array.isArray(entry) ? {} : entry));
  }
  const response = await new Promise<unknown>((resolve) => {
    const context: CallContext = { log, caller, ...traceContexts(req, request) };
    deps.rpc.call(request as jayson.JSONRPCRequestLike, context, (err: unknown, result: unknown) =>
      resolve(err ?? result),
    );
  });
  if (response === undefined || (Array.isArray(response) && response.length === 0)) {
    res.writeHead(204).end();
    return;
  }
  send(res, 200, response);
}

/**
 * The traceparent each call came with (docs/observability.md), by its params object: jayson
 * hands a method the params it was sent, not the call's position in a batch. Read without the
 * OpenTelemetry SDK, so that a task keeps its creating trace whether the store traces or not.
 */
function traceContexts(req: IncomingMessage, request: unknown): Pick<CallContext, 'traceparents' | 'batch'> {
  const calls: unknown[] = Array.isArray(request) ? request : [request];
  const found = callTraceparents(req.headers, calls.length);
  if (found.every((t) => t === undefined)) return {};
  const traceparents = new WeakMap<object, string>();
  calls.forEach((call, i) => {
    const params = (call as { params?: unknown } | null)?.params;
    const traceparent = found[i];
    if (typeof params === 'object' && params !== null && traceparent !== undefined)
      traceparents.set(params, traceparent);
  });
  return { traceparents, batch: Array.isArray(request) };
}

export function createHttpServer(deps: HttpDeps): Server {
  const server = createServer(httpServerOptions(deps.limits), (req, res) => {
    const reqId = (req.headers['x-request-id'] as string | undefined)?.slice(0, 200) || randomUUID();
    res.setHeader('x-request-id', reqId);
    const log = deps.log.child({ reqId });
    const path = (req.url ?? '/').split('?')[0];
    const route = async (): Promise<void> => {
      if (path === '/rpc') {
        if (req.method !== 'POST') {
          res.setHeader('allow', 'POST');
          return send(res, 405, { jsonrpc: '2.0', id: null, error: rpcError('INVALID_REQUEST', 'use POST') });
        }
        return handleRpc(deps, req, res, log);
      }
      if (req.method === 'GET' && path === '/healthz') return send(res, 200, { status: 'ok' });
      if (req.method === 'GET' && path === '/readyz') {
        try {
          await deps.db.command({ ping: 1 }, { timeoutMS: 2_000 });
          return send(res, 200, { status: 'ready', mongodb: 'up' });
        } catch {
          return send(res, 503, { status: 'not ready', mongodb: 'down' });
        }
      }
      if (req.method === 'GET' && path === '/metrics') {
        return send(res, 200, await deps.metrics.registry.metrics(), deps.metrics.registry.contentType);
      }
      send(res, 404, {
        jsonrpc: '2.0',
        id: null,
        error: rpcError('METHOD_NOT_FOUND', `no endpoint ${path}`),
      });
    };
    route().catch((err: unknown) => {
      log.error({ err }, 'http request failed');
      if (!res.headersSent) sendRpcError(res, 'INTERNAL', 'internal error');
      else res.destroy();
    });
  });
  answerClientErrors(server, (status, message) => ({
    contentType: 'application/json',
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: null,
      error: rpcError(status === 431 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST', message),
    }),
  }));
  return applyHttpLimits(server, deps.limits);
}
