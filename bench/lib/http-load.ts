/**
 * Closed-loop HTTP load: C clients, each sends its next request as soon as the previous answer
 * arrived, until `requests` requests have been sent. Node's fetch (undici) keeps connections
 * alive and opens at most one per client in flight, so C clients use about C connections.
 */

export interface LoadResult {
  /** performance.now() and Date.now() just before the first request was sent. */
  startPerf: number;
  startEpochMs: number;
  /** From the first request sent to the last answer received. */
  wallMs: number;
  /** Ids the server returned, in no particular order. */
  ids: string[];
  requestLatenciesMs: number[];
  /** Answers by HTTP status ("network" for a request that got none). */
  statuses: Record<string, number>;
  firstError?: string;
  /** Open loop only: each returned id's scheduled send time (epoch ms). */
  scheduledEpochMsById?: Map<string, number>;
  /** Open loop only: how late each request left, against its schedule. */
  sendLagMs?: number[];
}

export interface LoadSpec {
  url: string;
  concurrency: number;
  requests: number;
  /** Body of request i. */
  body(i: number): unknown;
  /** The ids in a successful answer's JSON. */
  ids(json: unknown): string[];
  timeoutMs?: number;
  /** Sent with every request (e.g. an API key); content-type is JSON either way. */
  headers?: Record<string, string>;
}

export async function closedLoop(spec: LoadSpec): Promise<LoadResult> {
  const ids: string[] = [];
  const requestLatenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let firstError: string | undefined;
  let next = 0;
  const startEpochMs = Date.now();
  const startPerf = performance.now();
  const client = async () => {
    while (next < spec.requests) {
      const i = next++;
      const t = performance.now();
      const answer = await postOnce(spec, spec.body(i), spec.headers);
      if (answer.ids) {
        requestLatenciesMs.push(answer.answeredPerf - t);
        ids.push(...answer.ids);
      } else firstError ??= answer.error;
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, spec.requests) }, client));
  return {
    startPerf,
    startEpochMs,
    wallMs: performance.now() - startPerf,
    ids,
    requestLatenciesMs,
    statuses,
    ...(firstError !== undefined && { firstError }),
  };
}

export interface OpenLoopSpec {
  url: string;
  ratePerSec: number;
  /** Requests to schedule: request i is due at start + i / ratePerSec. */
  count: number;
  body(i: number): unknown;
  ids(json: unknown): string[];
  timeoutMs?: number;
}

/**
 * Open-loop HTTP load: requests leave on a fixed schedule whether or not earlier ones were
 * answered (no coordinated omission). A request's latency counts from its scheduled time, so
 * a generator that falls behind shows up as latency, and `sendLagMs` says by how much.
 */
export async function openLoop(spec: OpenLoopSpec): Promise<LoadResult> {
  const ids: string[] = [];
  const requestLatenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  const scheduledEpochMsById = new Map<string, number>();
  const sendLagMs: number[] = [];
  let firstError: string | undefined;
  const interval = 1000 / spec.ratePerSec;
  const startEpochMs = Date.now();
  const startPerf = performance.now();
  const send = async (i: number, duePerf: number) => {
    sendLagMs.push(performance.now() - duePerf);
    const answer = await postOnce(spec, spec.body(i));
    if (answer.ids) {
      requestLatenciesMs.push(answer.answeredPerf - duePerf);
      for (const id of answer.ids) {
        ids.push(id);
        scheduledEpochMsById.set(id, startEpochMs + (duePerf - startPerf));
      }
    } else firstError ??= answer.error;
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
  };
  const inFlight: Promise<void>[] = [];
  let i = 0;
  while (i < spec.count) {
    const now = performance.now();
    for (; i < spec.count && startPerf + i * interval <= now; i++) {
      inFlight.push(send(i, startPerf + i * interval));
    }
    const wait = startPerf + i * interval - performance.now();
    if (i < spec.count) await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  await Promise.all(inFlight);
  return {
    startPerf,
    startEpochMs,
    wallMs: performance.now() - startPerf,
    ids,
    requestLatenciesMs,
    statuses,
    scheduledEpochMsById,
    sendLagMs,
    ...(firstError !== undefined && { firstError }),
  };
}

/** Splits n items into requests of `size` (the last one may be smaller). */
export function batchSizes(n: number, size: number): number[] {
  return Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size));
}

/**
 * One POST of a load: its status (`network` when no answer came), and the ids of a 2xx answer
 * with the moment its body was read, or the error to report.
 */
async function postOnce(
  spec: { url: string; ids(json: unknown): string[]; timeoutMs?: number },
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: string; ids?: string[]; answeredPerf: number; error?: string }> {
  let status = 'network';
  try {
    const res = await fetch(spec.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(spec.timeoutMs ?? 120_000),
    });
    status = String(res.status);
    const text = await res.text();
    const answeredPerf = performance.now();
    if (res.status === 200 || res.status === 201)
      return { status, ids: spec.ids(JSON.parse(text)), answeredPerf };
    return { status, answeredPerf, error: `HTTP ${res.status}: ${text.slice(0, 300)}` };
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { status, answeredPerf: performance.now(), error };
  }
}
