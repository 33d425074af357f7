/**
 * The one error middleware: every failure leaves as application/problem+json (RFC 9457) with a
 * stable `type`/`code`, `instance` = the request id, the failing fields for validation errors.
 * 4xx details are shown; 5xx details are not, and no stack trace ever reaches a client.
 */
import type { Context, Next } from 'koa';
import { ERRORS, isStoreError, type ErrorType } from '@tasks/contracts';
import type { GatewayState } from '../app-context.js';

export interface ProblemExtras {
  fields?: { path: string; message: string }[];
  currentStatus?: string;
  knownTypes?: string[];
  retryAfterSeconds?: number;
  [key: string]: unknown;
}

/** An HTTP error with a type from the contracts error table. Recognised by name, not class. */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly code: ErrorType,
    detail: string,
    readonly extras: ProblemExtras = {},
  ) {
    super(detail);
  }
}

function isHttpProblem(err: unknown): err is HttpProblem {
  return (err as { name?: unknown } | null)?.name === 'HttpProblem';
}

export function problemType(code: ErrorType): string {
  return `/problems/${code.toLowerCase().replaceAll('_', '-')}`;
}

/** Maps any thrown value to a problem. */
function toProblem(err: unknown): HttpProblem {
  if (isHttpProblem(err)) return err;
  if (isStoreError(err, 'UNAUTHORIZED')) {
    // The store refused the gateway's own token: a misconfiguration here, not the caller's fault.
    return new HttpProblem('INTERNAL', 'the gateway is not authorised by the task store (RPC_TOKEN)');
  }
  if (isStoreError(err)) {
    const d = err.data ?? { type: err.type };
    const extras: ProblemExtras = {};
    if (d.fields) extras.fields = d.fields;
    if (typeof d.status === 'string') extras.currentStatus = d.status;
    if (Array.isArray(d.known)) extras.knownTypes = d.known as string[];
    if (typeof d.taskId === 'string') extras.taskId = d.taskId;
    if (err.type === 'DEPENDENCY_UNAVAILABLE' || err.type === 'BUSY') extras.retryAfterSeconds = 2;
    // A slow store is worth telling apart from an unreachable one; other 5xx details stay generic.
    if (err.timedOut) return new HttpProblem(err.type, err.message, extras);
    if (ERRORS[err.type].http >= 500) return new HttpProblem(err.type, ERRORS[err.type].title, extras);
    return new HttpProblem(err.type, err.message, extras);
  }
  // Koa's own errors (body parser: 413, malformed JSON: 400).
  const e = err as { status?: unknown; type?: unknown };
  if (e.status === 413 || e.type === 'entity.too.large')
    return new HttpProblem('PAYLOAD_TOO_LARGE', 'request body is too large');
  if (e.status === 429) {
    const headers = (err as { headers?: Record<string, string> }).headers ?? {};
    const retry = Number(headers['Retry-After'] ?? headers['retry-after'] ?? 60);
    return new HttpProblem('RATE_LIMITED', 'rate limit exceeded', {
      retryAfterSeconds: Number.isFinite(retry) ? retry : 60,
    });
  }
  if (e.status === 415) return new HttpProblem('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
  // The body parser (co-body) marks unparsable JSON with status 400.
  if (e.status === 400) {
    return new HttpProblem('VALIDATION_FAILED', 'request body is not valid JSON', {
      fields: [{ path: '/', message: 'is not valid JSON' }],
    });
  }
  return new HttpProblem('INTERNAL', 'internal error');
}

/** The body for a request Node's parser refused before Koa saw it (400, 408, 431). */
export function problemForClientError(
  status: number,
  message: string,
): { contentType: string; body: string } {
  const code: ErrorType =
    status === 408 ? 'REQUEST_TIMEOUT' : status === 431 ? 'HEADERS_TOO_LARGE' : 'MALFORMED_REQUEST';
  return {
    contentType: 'application/problem+json',
    body: JSON.stringify({
      type: problemType(code),
      code,
      title: ERRORS[code].title,
      status,
      detail: message,
    }),
  };
}

export async function problemDetails(ctx: Context & { state: GatewayState }, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      throw new HttpProblem('ROUTE_NOT_FOUND', `no resource at ${ctx.method} ${ctx.path}`);
    }
  } catch (err) {
    const problem = toProblem(err);
    const status = ERRORS[problem.code].http;
    const { retryAfterSeconds, ...extras } = problem.extras;
    if (status >= 500) ctx.state.log.error({ err, status }, 'request failed');
    else ctx.state.log.info({ code: problem.code, status }, 'request refused');
    if (retryAfterSeconds !== undefined) ctx.set('retry-after', String(retryAfterSeconds));
    if (problem.code === 'UNAUTHORIZED') ctx.set('www-authenticate', 'Bearer realm="tasks"');
    ctx.status = status;
    ctx.type = 'application/problem+json';
    ctx.body = {
      type: problemType(problem.code),
      code: problem.code,
      title: ERRORS[problem.code].title,
      status,
      detail: status >= 500 && problem.code === 'INTERNAL' ? 'an internal error occurred' : problem.message,
      instance: ctx.state.requestId,
      ...extras,
    };
  }
}
