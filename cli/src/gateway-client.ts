/**
 * Just enough of the REST gateway for `submit`: POST /v1/tasks. Problem details
 * (RFC 9457) come back as StoreError with the problem's `code` as type, so one error table
 * decides the exit code whichever service answered.
 */
import { ERRORS, StoreError, type ErrorData, type ErrorType, type Task } from '@tasks/contracts';

export interface GatewayOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  apiKey?: string;
  timeoutMs: number;
}

export interface SubmitBody {
  type: string;
  payload?: unknown;
  priority?: number;
  maxAttempts?: number;
  delayMs?: number;
}

/** The gateway shows tasks without their lease id. */
export type PublicTask = Omit<Task, 'leaseId'>;

interface Problem {
  code?: unknown;
  detail?: unknown;
  title?: unknown;
  currentStatus?: unknown;
  fields?: unknown;
}

export class GatewayClient {
  constructor(private readonly opts: GatewayOptions) {}

  /** Creates a task; `created` is false when an idempotency key matched an earlier request. */
  async createTask(
    body: SubmitBody,
    idempotencyKey?: string,
  ): Promise<{ task: PublicTask; created: boolean }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    const url = `${this.opts.url.replace(/\/+$/, '')}/v1/tasks`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const reason =
        err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      throw new StoreError(
        ERRORS.DEPENDENCY_UNAVAILABLE.code,
        `gateway unreachable: ${reason}`,
        undefined,
        true,
      );
    }
    const parsed = parseJson(text);
    if (res.ok && isTask(parsed)) return { task: parsed, created: res.status === 201 };
    throw toError(res.status, parsed);
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function isTask(v: unknown): v is PublicTask {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';
}

function toError(status: number, body: unknown): StoreError {
  const p = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  if (typeof p.code === 'string' && p.code in ERRORS) {
    const type = p.code as ErrorType;
    const data: ErrorData = { type };
    if (typeof p.currentStatus === 'string') data.status = p.currentStatus;
    if (Array.isArray(p.fields)) data.fields = p.fields as ErrorData['fields'];
    const message = typeof p.detail === 'string' ? p.detail : ERRORS[type].title;
    return new StoreError(ERRORS[type].code, message, data);
  }
  const transport = status >= 502 && status <= 504;
  const type: ErrorType = transport ? 'DEPENDENCY_UNAVAILABLE' : 'INTERNAL';
  return new StoreError(ERRORS[type].code, `gateway answered HTTP ${status}`, { type }, transport);
}
