/**
 * The one error table. JSON-RPC codes of application errors lie outside the range the
 * JSON-RPC 2.0 specification reserves (-32768..-32000); the spec's own codes are used for
 * what the spec defines. Recognise errors by `type` or `code`, never by class or message.
 */
export const ERRORS = {
  PARSE_ERROR: { code: -32700, http: 400, title: 'Parse error', retryable: false },
  INVALID_REQUEST: { code: -32600, http: 400, title: 'Invalid request', retryable: false },
  METHOD_NOT_FOUND: { code: -32601, http: 404, title: 'Method not found', retryable: false },
  VALIDATION_FAILED: { code: -32602, http: 400, title: 'Invalid params', retryable: false },
  INTERNAL: { code: -32603, http: 500, title: 'Internal error', retryable: false },
  UNAUTHORIZED: { code: 40100, http: 401, title: 'Unauthorized', retryable: false },
  UNKNOWN_TASK_TYPE: { code: 40001, http: 400, title: 'Unknown task type', retryable: false },
  TASK_NOT_FOUND: { code: 40400, http: 404, title: 'Task not found', retryable: false },
  FLOW_NOT_FOUND: { code: 40402, http: 404, title: 'Flow not found', retryable: false },
  TASK_TYPE_NOT_FOUND: { code: 40403, http: 404, title: 'Task type not found', retryable: false },
  SCHEDULE_NOT_FOUND: { code: 40404, http: 404, title: 'Schedule not found', retryable: false },
  WEBHOOK_DELIVERY_NOT_FOUND: {
    code: 40405,
    http: 404,
    title: 'Webhook delivery not found',
    retryable: false,
  },
  INVALID_TRANSITION: { code: 40900, http: 409, title: 'Invalid status transition', retryable: false },
  LEASE_LOST: { code: 40901, http: 409, title: 'Lease not held', retryable: false },
  IDEMPOTENCY_CONFLICT: {
    code: 40902,
    http: 409,
    title: 'Idempotency key reused with a different body',
    retryable: false,
  },
  TASK_NOT_DUE: { code: 40903, http: 409, title: 'Task is not due yet', retryable: true },
  /** The task may not start yet (its type is paused, or at its concurrency limit): it waits in the store. */
  TASK_HELD: { code: 40905, http: 409, title: 'Task held until it may start', retryable: false },
  /** The task was not started by its expiresAt: the claim ended it (failed, EXPIRED). */
  TASK_EXPIRED: { code: 40906, http: 409, title: 'Task expired before it started', retryable: false },
  TYPE_KIND_MISMATCH: {
    code: 40904,
    http: 409,
    title: 'Task type registered with another kind',
    retryable: false,
  },
  PAYLOAD_INVALID: { code: 42200, http: 422, title: 'Payload fails the task type schema', retryable: false },
  PAYLOAD_TOO_LARGE: { code: 41300, http: 413, title: 'Request too large', retryable: false },
  UNSUPPORTED_MEDIA_TYPE: {
    code: 41500,
    http: 415,
    title: 'Content type must be application/json',
    retryable: false,
  },
  ROUTE_NOT_FOUND: { code: 40401, http: 404, title: 'No such resource', retryable: false },
  METHOD_NOT_ALLOWED: { code: 40500, http: 405, title: 'Method not allowed', retryable: false },
  MALFORMED_REQUEST: { code: 40002, http: 400, title: 'Malformed HTTP request', retryable: false },
  REQUEST_TIMEOUT: { code: 40800, http: 408, title: 'Request not received in time', retryable: true },
  HEADERS_TOO_LARGE: { code: 43100, http: 431, title: 'Request headers too large', retryable: false },
  RATE_LIMITED: { code: 42900, http: 429, title: 'Too many requests', retryable: true },
  BUSY: { code: 50300, http: 503, title: 'Task is being changed by another call', retryable: true },
  DEPENDENCY_UNAVAILABLE: { code: 50301, http: 503, title: 'A dependency is unreachable', retryable: true },
} as const;

export type ErrorType = keyof typeof ERRORS;

export interface ErrorData {
  type: ErrorType;
  /** Validation errors: one entry per failing field. */
  fields?: { path: string; message: string }[];
  /** Conflicts: the task's current status. */
  status?: string;
  [key: string]: unknown;
}

/** A JSON-RPC error object as the store sends it. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: ErrorData;
}

const byCode = new Map<number, ErrorType>(
  Object.entries(ERRORS).map(([type, e]) => [e.code, type as ErrorType]),
);

export function errorTypeForCode(code: number): ErrorType | undefined {
  return byCode.get(code);
}

/** Builds the JSON-RPC error object for an application error. */
export function rpcError(
  type: ErrorType,
  message: string = ERRORS[type].title,
  data: Omit<ErrorData, 'type'> = {},
): RpcErrorObject {
  return { code: ERRORS[type].code, message, data: { ...data, type } };
}
