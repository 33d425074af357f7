/**
 * The HTTP server limits the three services share (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS,
 * KEEP_ALIVE_TIMEOUT_MS, MAX_HEADER_BYTES, MAX_HEADERS_COUNT), so that a client dribbling its
 * headers or body, or holding idle connections, cannot keep sockets open for Node's defaults
 * (60 s for headers, 5 min for a request).
 */
import type { Server, ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { ConfigError } from './env-config.js';

export interface HttpLimits {
  /** Longest wait for a request's complete headers; then 408 and the connection is closed. */
  headersTimeoutMs: number;
  /** Longest wait for a whole request (headers and body); then 408 and the connection is closed. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Largest request header block in bytes (over it: 431 and the connection is closed). */
  maxHeaderBytes: number;
  /** Most headers read per request; the rest are dropped. */
  maxHeadersCount: number;
}

/** The defaults of a public HTTP service (the gateway, the store); the executor's ops server takes smaller ones. */
export const PUBLIC_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  maxHeaderBytes: 16_384,
  maxHeadersCount: 100,
});

/**
 * The five variables as JSON Schema entries with the given defaults, for each service to spread
 * into its own config schema (its envReader then types them for readHttpLimits). A public
 * service admits a request timeout of up to an hour (a slow upload); the executor's ops server,
 * which only scrapers call, up to ten minutes.
 */
export function httpLimitsEnvSchema(
  defaults: Readonly<HttpLimits> = PUBLIC_HTTP_LIMITS,
  requestTimeoutMaxMs = 3_600_000,
) {
  return {
    HEADERS_TIMEOUT_MS: {
      type: 'integer',
      minimum: 100,
      maximum: 600_000,
      default: defaults.headersTimeoutMs,
    },
    REQUEST_TIMEOUT_MS: {
      type: 'integer',
      minimum: 100,
      maximum: requestTimeoutMaxMs,
      default: defaults.requestTimeoutMs,
    },
    KEEP_ALIVE_TIMEOUT_MS: {
      type: 'integer',
      minimum: 100,
      maximum: 600_000,
      default: defaults.keepAliveTimeoutMs,
    },
    MAX_HEADER_BYTES: { type: 'integer', minimum: 1024, maximum: 65_536, default: defaults.maxHeaderBytes },
    MAX_HEADERS_COUNT: { type: 'integer', minimum: 10, maximum: 2000, default: defaults.maxHeadersCount },
  } as const;
}

/**
 * The limits from a service's validated environment (its schema spreads httpLimitsEnvSchema, with
 * its own defaults); Node refuses a headers timeout longer than the request timeout.
 */
export function readHttpLimits(v: {
  readonly HEADERS_TIMEOUT_MS: number;
  readonly REQUEST_TIMEOUT_MS: number;
  readonly KEEP_ALIVE_TIMEOUT_MS: number;
  readonly MAX_HEADER_BYTES: number;
  readonly MAX_HEADERS_COUNT: number;
}): HttpLimits {
  const headersTimeoutMs = v.HEADERS_TIMEOUT_MS;
  const requestTimeoutMs = v.REQUEST_TIMEOUT_MS;
  if (headersTimeoutMs > requestTimeoutMs)
    throw new ConfigError('invalid configuration: HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS');
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: v.KEEP_ALIVE_TIMEOUT_MS,
    maxHeaderBytes: v.MAX_HEADER_BYTES,
    maxHeadersCount: v.MAX_HEADERS_COUNT,
  };
}

/** Options for `http.createServer`. */
export function httpServerOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    // Node enforces both timeouts only when it sweeps its connections (every 30 s by default),
    // so a slow client could outlive them by that much: sweep at a quarter of the shorter one.
    connectionsCheckingInterval: Math.max(
      25,
      Math.min(1_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
    ),
  };
}

/** What `createServer`'s options do not cover; call once after creating the server. */
export function applyHttpLimits(server: Server, limits: HttpLimits): Server {
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxHeadersCount = limits.maxHeadersCount;
  return server;
}

/** Node's parser errors (and its request timeout) as the status and message a client is told. */
function describeClientError(err: NodeJS.ErrnoException): {
  status: number;
  reason: string;
  message: string;
} {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        message: 'the request line and headers are larger than the server accepts',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        reason: 'Request Timeout',
        message: 'the request did not arrive completely in time',
      };
    default:
      return {
        status: 400,
        reason: 'Bad Request',
        message: `malformed HTTP request (${err.code ?? 'parse error'})`,
      };
  }
}

/**
 * Answers what Node's HTTP parser refuses (malformed requests, oversized headers, timeouts) in
 * the service's own error format instead of Node's bare status line, then closes the connection.
 */
export function answerClientErrors(
  server: Server,
  format: (status: number, message: string) => { contentType: string; body: string },
): Server {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const response = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, reason, message } = describeClientError(err);
    const { contentType, body } = format(status, message);
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
