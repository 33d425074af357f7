/**
 * The abuse corpus's case shapes and the helpers the case tables share. What abuse.test.ts
 * checks for each kind is said on the kind.
 */
import { ERRORS, type ErrorType, type TaskStatus } from '@tasks/contracts';
import type { Harness } from '../harness.js';

export type Lazy<T> = T | ((h: Harness) => T);

/** A REST request to the gateway; the answer must be this problem (application/problem+json). */
export interface RestCase {
  kind: 'rest';
  category: string;
  name: string;
  method: string;
  path: Lazy<string>;
  /** An object is sent as JSON; a string or Buffer as it is. */
  body?: Lazy<unknown>;
  /** Extra headers; an empty value removes the default one (content-type). */
  headers?: Record<string, string>;
  /** The API key is sent unless this says otherwise (`null`: no Authorization header). */
  authorization?: string | null;
  expect: { status: number; code: ErrorType };
}

/** A JSON-RPC request to the store: a JSON-RPC error of one of these types, or this result. */
export interface RpcCase {
  kind: 'rpc';
  category: string;
  name: string;
  body?: Lazy<unknown>;
  /** Sent as it is instead of `body`. */
  raw?: string | Buffer;
  /** The store's token is sent unless this says otherwise (`null`: no Authorization header). */
  token?: string | null;
  contentType?: string | null;
  httpMethod?: string;
  expect:
    | { http: number; error: ErrorType | ErrorType[] }
    | { http: 200; batchErrors: ErrorType[] }
    | { http: 200; result: Lazy<Record<string, unknown>> };
}

/** Bytes on a socket, for what fetch will not send: this status, a message, and the connection closed. */
export interface RawCase {
  kind: 'raw';
  category: string;
  name: string;
  target: 'gateway' | 'store';
  request: Lazy<string | Buffer>;
  expect: { status: number };
}

/** An http.request task the gateway accepts, which must end failed without reaching the internal server. */
export interface RuntimeSsrfCase {
  kind: 'ssrf-runtime';
  category: string;
  name: string;
  url: Lazy<string>;
  expect: { errorCode: string };
}

/** A client that never finishes its request (or idles): the server must close the connection in time. */
export interface SlowCase {
  kind: 'slow';
  category: string;
  name: string;
  target: 'gateway' | 'store' | 'executor';
  mode: 'headers' | 'body' | 'idle';
}

export type AbuseCase = RestCase | RpcCase | RawCase | RuntimeSsrfCase | SlowCase;

export const KB = 1024;

export function rest(
  category: string,
  name: string,
  method: string,
  path: Lazy<string>,
  body: Lazy<unknown>,
  expect: RestCase['expect'],
  extra: Partial<RestCase> = {},
): RestCase {
  return { kind: 'rest', category, name, method, path, body, expect, ...extra };
}

/** The status and code of an error type, as a REST case expects them. */
export const status = (code: ErrorType) => ({ status: ERRORS[code].http, code });

export const rpcCall = (method: string, params: unknown, id: unknown = 1) => ({
  jsonrpc: '2.0',
  id,
  method,
  params,
});

export function rpcErr(
  category: string,
  name: string,
  body: Lazy<unknown>,
  error: ErrorType | ErrorType[],
  extra: Partial<RpcCase> = {},
): RpcCase {
  return { kind: 'rpc', category, name, body, expect: { http: 200, error }, ...extra };
}

export const taskPath = (s: TaskStatus) => (h: Harness) => `/v1/tasks/${h.tasks[s].id}`;
export const b64 = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
export const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
export const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
export const httpTask = (url: string) => ({ type: 'http.request', payload: { url } });
/** An http.request task aimed at the harness's internal server through `host`. */
export const internal =
  (host: string, path = '/') =>
  (h: Harness) =>
    httpTask(`http://${host}:${h.internalPort}${path}`);
export const rawHttp = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;
