/**
 * Just enough of the REST gateway for `submit` (POST /v1/tasks) and `type` (the settings under
 * /v1/task-types/{type}: changes go through the gateway because it publishes the tasks a
 * resume or a raised limit lets start). Problem details
 * (RFC 9457) come back as StoreError with the problem's `code` as type, so one error table
 * decides the exit code whichever service answered.
 */
import {
  ERRORS,
  StoreError,
  type ErrorData,
  type BulkAction,
  type BulkFilter,
  type ErrorType,
  type Task,
  type TypeLimits,
  type TypeSettings,
} from '@tasks/contracts';

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
  expiresAt?: string;
  tags?: string[];
  metadata?: Record<string, string>;
}

export interface BulkBody {
  action: BulkAction;
  filter: BulkFilter;
  dryRun: boolean;
}

export interface BulkTotals {
  action: BulkAction;
  dryRun: boolean;
  matched: number;
  changed: number;
}

/** A type's settings as the gateway shows them: with the burst its rate limit allows. */
export interface TypeSettingsView extends TypeSettings {
  rateBurst: number | null;
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
    const headers: Record<string, string> = {};
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    const { status, body: answer } = await this.request('POST', '/v1/tasks', body, headers);
    if (isTask(answer)) return { task: answer, created: status === 201 };
    throw unexpected(status);
  }

  /**
   * POST /v1/tasks/actions as a stream of NDJSON lines: `onProgress` gets the running totals after
   * each page. The timeout bounds the wait for each line, not the whole run.
   */
  async bulkAction(
    body: BulkBody,
    onProgress: (p: { matched: number; changed: number }) => void,
  ): Promise<BulkTotals> {
    const res = await this.open('POST', '/v1/tasks/actions', body, { accept: 'application/x-ndjson' });
    if (!res.ok) throw toError(res.status, parseJson(await res.text()));
    let last: unknown;
    for await (const line of lines(res, this.opts.timeoutMs)) {
      last = parseJson(line);
      const l = last as {
        done?: unknown;
        matched?: number;
        changed?: number;
        error?: { code?: unknown; detail?: unknown };
      };
      if (l?.done === false) onProgress({ matched: l.matched ?? 0, changed: l.changed ?? 0 });
      else if (l?.done === true && l.error)
        throw toError(500, { code: l.error.code, detail: l.error.detail });
    }
    const totals = last as Partial<BulkTotals & { done: boolean }> | undefined;
    if (totals?.done !== true || typeof totals.matched !== 'number') throw unexpected(res.status);
    return {
      action: body.action,
      dryRun: body.dryRun,
      matched: totals.matched,
      changed: totals.changed ?? 0,
    };
  }

  getTypeSettings(type: string): Promise<TypeSettingsView> {
    return this.settings('GET', `${typePath(type)}/limits`);
  }

  /** Pauses (true) or resumes (false) a type. */
  setPaused(type: string, paused: boolean): Promise<TypeSettingsView> {
    return this.settings('PATCH', typePath(type), { paused });
  }

  /** Seconds its finished tasks are kept (docs/retention.md); null: the store's default. */
  setRetention(type: string, retentionSeconds: number | null): Promise<TypeSettingsView> {
    return this.settings('PATCH', typePath(type), { retentionSeconds });
  }

  /** A number sets a limit, null lifts it, an absent field keeps it. */
  setLimits(type: string, limits: Partial<TypeLimits>): Promise<TypeSettingsView> {
    return this.settings('PUT', `${typePath(type)}/limits`, limits);
  }

  private async settings(method: string, path: string, body?: unknown): Promise<TypeSettingsView> {
    const { status, body: answer } = await this.request(method, path, body);
    if (isSettings(answer)) return answer;
    throw unexpected(status);
  }

  /** One request; a non-2xx answer is thrown as the StoreError its problem names. */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown }> {
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    const res = await this.open(method, path, body, extraHeaders, signal);
    const text = await res.text().catch((err: unknown) => {
      throw unreachable(err);
    });
    const parsed = parseJson(text);
    if (!res.ok) throw toError(res.status, parsed);
    return { status: res.status, body: parsed };
  }

  /** Sends a request and waits for the answer's head (within the timeout unless given a signal). */
  private async open(
    method: string,
    path: string,
    body: unknown,
    extraHeaders: Record<string, string> = {},
    signal: AbortSignal = AbortSignal.timeout(this.opts.timeoutMs),
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    const url = `${this.opts.url.replace(/\/+$/, '')}${path}`;
    try {
      return await fetch(url, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal,
      });
    } catch (err) {
      throw unreachable(err);
    }
  }
}

function unreachable(err: unknown): StoreError {
  const reason =
    err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return new StoreError(
    ERRORS.DEPENDENCY_UNAVAILABLE.code,
    `gateway unreachable: ${reason}`,
    undefined,
    true,
  );
}

/** The lines of a streamed answer; more than `idleMs` without a byte is an error. */
async function* lines(res: Response, idleMs: number): AsyncGenerator<string> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no progress from the gateway for ${idleMs} ms`)), idleMs);
    });
    let chunk: { done: boolean; value?: Uint8Array };
    try {
      chunk = await Promise.race([reader.read(), idle]);
    } catch (err) {
      await reader.cancel().catch(() => undefined);
      throw unreachable(err);
    } finally {
      clearTimeout(timer);
    }
    if (chunk.done) break;
    pending += decoder.decode(chunk.value, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line) yield line;
    }
  }
  if (pending.trim()) yield pending.trim();
}

const typePath = (type: string) => `/v1/task-types/${encodeURIComponent(type)}`;

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

function isSettings(v: unknown): v is TypeSettingsView {
  const s = v as Partial<Record<keyof TypeSettingsView, unknown>> | null;
  return typeof s?.type === 'string' && typeof s.paused === 'boolean';
}

/** A 2xx answer that is not what the route documents (a proxy's page, say). */
function unexpected(status: number): StoreError {
  return new StoreError(ERRORS.INTERNAL.code, `gateway answered HTTP ${status} with an unexpected body`, {
    type: 'INTERNAL',
  });
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
