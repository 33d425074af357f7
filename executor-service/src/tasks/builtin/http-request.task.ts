/**
 * `http.request` (io): one HTTP(S) request with SSRF protection (see ssrf.ts), up to 5 redirects
 * (each target vetted again), a 1 MiB response cap and an overall deadline.
 *
 * Outcomes: 2xx, 3xx without Location and 4xx are the task's answer and are returned as results —
 * a 404 is a fact about the URL, and retrying would only repeat it. 5xx, timeouts and network
 * errors are failures the server or the network may recover from, so they are thrown as
 * retryable errors. Refusals (SSRF, bad payload, redirect loops) are TaskFailures: not retried.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { defineTask, TaskFailure, type TaskContext } from '../task-definition.js';
import { internalHostSchema } from '../../ssrf/ssrf-literal.js';
import { vetTarget, type LookupAll, type VettedTarget } from '../../ssrf/ssrf.js';

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof METHODS)[number];

export interface HttpRequestPayload {
  url: string;
  method?: HttpMethod;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export interface HttpRequestResult {
  status: number;
  headers: Record<string, string>;
  /** The response body as UTF-8 text, at most MAX_RESPONSE_BYTES of it. */
  body: string;
  /** True when the response had more than MAX_RESPONSE_BYTES; the rest was not read. */
  truncated: boolean;
  /** Bytes of body received and returned (≤ MAX_RESPONSE_BYTES). */
  bytes: number;
  /** The URL that answered, after redirects. */
  url: string;
}

export const MAX_BODY_BYTES = 1_048_576;
export const MAX_RESPONSE_BYTES = 1_048_576;
export const MAX_REDIRECTS = 5;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const MAX_TIMEOUT_MS = 60_000;

/** Headers the task sets itself, or that would change how the connection is framed. */
const FORBIDDEN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);
/** Dropped when a redirect leaves the origin, as browsers do. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

interface Attempt {
  url: URL;
  method: HttpMethod;
  headers: Record<string, string>;
  body: string | undefined;
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
}

function invalid(message: string): TaskFailure {
  return new TaskFailure('PAYLOAD_INVALID', message);
}

/** A failure worth another attempt (the default for anything that is not a TaskFailure). */
function retryable(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, retryable: true }, extra);
}

function parseHttpUrl(text: string, what: string, code: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new TaskFailure(code, `${what} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TaskFailure(code, `${what} must be http or https, not ${url.protocol}`);
  }
  return url;
}

function checkPayload(p: HttpRequestPayload): Attempt & { timeoutMs: number } {
  if (typeof p.url !== 'string') throw invalid('url must be a string');
  const url = parseHttpUrl(p.url, 'url', 'PAYLOAD_INVALID');
  const method = p.method ?? 'GET';
  if (!METHODS.includes(method)) throw invalid(`method must be one of ${METHODS.join(', ')}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(p.headers ?? {})) {
    const key = name.toLowerCase();
    if (FORBIDDEN_HEADERS.has(key)) throw invalid(`header ${name} may not be set`);
    if (typeof value !== 'string') throw invalid(`header ${name} must be a string`);
    try {
      http.validateHeaderName(key);
      http.validateHeaderValue(key, value);
    } catch {
      throw invalid(`header ${name} is not a valid HTTP header`);
    }
    headers[key] = value;
  }
  if (p.body !== undefined && (typeof p.body !== 'string' || Buffer.byteLength(p.body) > MAX_BODY_BYTES)) {
    throw invalid(`body must be a string of at most ${MAX_BODY_BYTES} bytes`);
  }
  const timeoutMs = p.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw invalid(`timeoutMs must be an integer in 1..${MAX_TIMEOUT_MS}`);
  }
  return { url, method, headers, body: p.body, timeoutMs };
}

function flattenHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component; // a stray % is taken literally
  }
}

/** One request to an already vetted address; reads at most MAX_RESPONSE_BYTES of the body. */
function send(a: Attempt, target: VettedTarget, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...a.headers, host: a.url.host };
    if (a.body !== undefined) headers['content-length'] = String(Buffer.byteLength(a.body));
    const options: https.RequestOptions = {
      // Connect to the vetted IP; the name only goes into Host, SNI and certificate checks.
      host: target.address,
      family: target.family,
      port: target.port,
      method: a.method,
      path: `${a.url.pathname}${a.url.search}`,
      headers,
      agent: false,
      ...(a.url.username && { auth: `${decode(a.url.username)}:${decode(a.url.password)}` }),
      ...(isIP(target.hostname) === 0 && { servername: target.hostname }),
    };
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const req = (a.url.protocol === 'https:' ? https : http).request(options, (res) => {
      const status = res.statusCode ?? 0;
      const resHeaders = flattenHeaders(res.headers);
      if (REDIRECT_STATUSES.has(status) && res.headers.location !== undefined) {
        settle(() => resolve({ status, headers: resHeaders, body: Buffer.alloc(0), truncated: false }));
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (truncated: boolean): void =>
        settle(() => resolve({ status, headers: resHeaders, body: Buffer.concat(chunks, size), truncated }));
      res.on('data', (chunk: Buffer) => {
        const room = MAX_RESPONSE_BYTES - size;
        if (chunk.length <= room) {
          chunks.push(chunk);
          size += chunk.length;
          return;
        }
        chunks.push(chunk.subarray(0, room));
        size += room;
        done(true);
        res.destroy(); // stop downloading the rest
      });
      res.on('end', () => done(false));
      res.on('error', (err) => settle(() => reject(err)));
      res.on('close', () => {
        if (!res.complete) settle(() => reject(new Error('connection closed before the response ended')));
      });
    });
    const onAbort = (): void => {
      settle(() => reject(new Error('aborted')));
      req.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => settle(() => reject(err)));
    req.end(a.body);
  });
}

async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error('aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Request, following redirects. `lookupAll` is for tests; production uses the system resolver. */
export async function httpRequest(
  payload: HttpRequestPayload,
  ctx: Pick<TaskContext, 'signal' | 'allowHosts'>,
  lookupAll?: LookupAll,
): Promise<HttpRequestResult> {
  const { timeoutMs, ...first } = checkPayload(payload);
  ctx.signal.throwIfAborted();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  const onCancel = (): void => deadline.abort();
  ctx.signal.addEventListener('abort', onCancel, { once: true });
  const signal = deadline.signal;
  let a: Attempt = first;
  try {
    for (let redirects = 0; ; redirects++) {
      let res: Response;
      try {
        const target = await raceAbort(vetTarget(a.url, ctx.allowHosts, lookupAll), signal);
        res = await send(a, target, signal);
      } catch (err) {
        if ((err as { retryable?: unknown }).retryable === false || signal.aborted) throw err;
        const e = err as { code?: unknown; message?: unknown };
        const cause = typeof e.code === 'string' ? e.code : String(e.message);
        throw retryable('HTTP_NETWORK_ERROR', `request to ${a.url.origin} failed: ${cause}`);
      }
      const location = res.headers.location;
      if (REDIRECT_STATUSES.has(res.status) && location !== undefined) {
        if (redirects === MAX_REDIRECTS) {
          throw new TaskFailure('TOO_MANY_REDIRECTS', `more than ${MAX_REDIRECTS} redirects`);
        }
        const next = parseHttpUrl(location, 'redirect location', 'REDIRECT_INVALID', a.url);
        a = redirectAttempt(a, res.status, next);
        continue;
      }
      if (res.status >= 500) {
        throw retryable('HTTP_SERVER_ERROR', `${a.url.origin} answered ${res.status}`, {
          status: res.status,
        });
      }
      return {
        status: res.status,
        headers: res.headers,
        body: res.body.toString('utf8'),
        truncated: res.truncated,
        bytes: res.body.length,
        url: a.url.href,
      };
    }
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (signal.aborted) throw retryable('HTTP_TIMEOUT', `no complete answer within ${timeoutMs} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onCancel);
  }
}

/** The next request after a redirect, following what browsers do (RFC 9110 §15.4). */
function redirectAttempt(prev: Attempt, status: number, url: URL): Attempt {
  const headers = { ...prev.headers };
  let { method, body } = prev;
  if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
    method = 'GET';
    body = undefined;
    delete headers['content-type'];
  }
  if (url.origin !== prev.url.origin) {
    for (const h of CREDENTIAL_HEADERS) delete headers[h];
  }
  return { url, method, headers, body };
}

/** The payload schema; with `allowHosts`, `url` also refuses hosts that are internal as written. */
function payloadSchema(allowHosts?: readonly string[]): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      url: {
        type: 'string',
        maxLength: 8192,
        pattern: '^[hH][tT][tT][pP][sS]?://',
        ...(allowHosts && { not: internalHostSchema(allowHosts) }),
      },
      method: { enum: [...METHODS] },
      headers: {
        type: 'object',
        maxProperties: 100,
        additionalProperties: { type: 'string', maxLength: 8192 },
      },
      body: { type: 'string', maxLength: MAX_BODY_BYTES },
      timeoutMs: { type: 'integer', minimum: 1, maximum: MAX_TIMEOUT_MS },
    },
    required: ['url'],
    additionalProperties: false,
  };
}

export default defineTask<HttpRequestPayload, HttpRequestResult>({
  type: 'http.request',
  kind: 'io',
  description:
    'One HTTP(S) request; refuses private, loopback and link-local targets unless allow-listed. ' +
    '4xx is a result, 5xx and network errors are retried.',
  payloadSchema: payloadSchema(),
  registeredPayloadSchema: ({ allowHosts }) => payloadSchema(allowHosts),
  resultSchema: {
    type: 'object',
    properties: {
      status: { type: 'integer' },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      body: { type: 'string' },
      truncated: { type: 'boolean' },
      bytes: { type: 'integer', minimum: 0 },
      url: { type: 'string' },
    },
    required: ['status', 'headers', 'body', 'truncated', 'bytes', 'url'],
  },
  timeoutMs: MAX_TIMEOUT_MS + 10_000,
  maxAttempts: 3,
  handler: (payload, ctx) => httpRequest(payload, ctx),
});
