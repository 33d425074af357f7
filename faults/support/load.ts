/** Load for the fault scenarios: mixed cpu/io tasks through the gateway, and who accepted what. */
import { randomUUID } from 'node:crypto';
import type { TaskStoreClient } from '@tasks/contracts';

export interface Load {
  /** Ids of the tasks the gateway answered 2xx for. */
  accepted: string[];
  /** Keys of the accepted `faults.record` tasks, by task id (their runs are in the run log). */
  recordKeys: Map<string, string>;
  /** What each accepted task was created as (for publishing copies of its message). */
  created: Map<string, { type: string; kind: 'cpu' | 'io'; version: number }>;
  /** Connections refused (no gateway listening); the request was sent again after 100 ms. */
  connectionsRefused: number;
  /** Requests that got no answer, by error code. */
  cutOff: Map<string, number>;
  /** Requests sent again with their Idempotency-Key after no answer. */
  sentAgain: number;
  /** Responses that were not 2xx, by status (0: no response at all). */
  refused: Map<number, number>;
}

export function newLoad(): Load {
  return {
    accepted: [],
    recordKeys: new Map(),
    created: new Map(),
    refused: new Map(),
    connectionsRefused: 0,
    sentAgain: 0,
    cutOff: new Map(),
  };
}

/** Task `i` of a mixed load: every other one CPU-bound (`primes.count`), the rest IO-bound. */
export function mixedTask(
  i: number,
  runLog: string,
  ioMs?: number,
): { type: string; payload: Record<string, unknown> } {
  if (i % 2 === 0 && ioMs === undefined)
    return { type: 'primes.count', payload: { upTo: 20_000 + (i % 7) * 5_000 } };
  return {
    type: 'faults.record',
    payload: { file: runLog, key: randomUUID(), ms: ioMs ?? 20 + (i % 9) * 20 },
  };
}

type Created = { id: string; type: string; kind: 'cpu' | 'io'; version: number };

function accept(load: Load, task: Created, spec: { payload: Record<string, unknown> }): void {
  load.accepted.push(task.id);
  load.created.set(task.id, { type: task.type, kind: task.kind, version: task.version });
  if (typeof spec.payload.key === 'string') load.recordKeys.set(task.id, spec.payload.key);
}

function refuse(load: Load, status: number): void {
  load.refused.set(status, (load.refused.get(status) ?? 0) + 1);
}

export interface SubmitOptions {
  runLog: string;
  /** Concurrent clients posting one task each (default 16). */
  concurrency?: number;
  /** Post through /v1/tasks/batch in batches of this size instead. */
  batchSize?: number;
  /** Every task an io one running this long (ms), instead of the mix. */
  ioMs?: number;
  /** Send each POST with an Idempotency-Key, and again with it when its fate is unknown. */
  idempotent?: boolean;
  /** Per-request timeout (default 30 s): a request that times out is not accepted. */
  timeoutMs?: number;
  /** Every task created with this completion webhook (docs/webhooks.md). */
  webhook?: { url: string };
}

/** Posts `n` mixed tasks; resolves once every request has been answered or has failed. */
export async function submit(gatewayUrl: string, n: number, load: Load, opts: SubmitOptions): Promise<void> {
  const post = async (path: string, body: unknown): Promise<{ status: number; body: any }> => {
    // With an Idempotency-Key a request whose fate is unknown (no answer, 503) can be sent again
    // safely: the gateway returns the task the first one created, if it did.
    const key = opts.idempotent ? randomUUID() : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(`${gatewayUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(key && { 'idempotency-key': key }) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
        });
        if (!(key && res.status === 503 && attempt < 50))
          return { status: res.status, body: (await res.json()) as any };
      } catch (err) {
        // A refused connection reached no server, so sending it again cannot create a task twice;
        // a client would do the same while a gateway restarts.
        const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        const refused = code === 'ECONNREFUSED';
        if (!refused) load.cutOff.set(code, (load.cutOff.get(code) ?? 0) + 1);
        if (!refused && !(key && attempt < 50)) return { status: 0, body: undefined };
        if (refused) load.connectionsRefused++;
        else load.sentAgain++;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const specs = Array.from({ length: n }, (_, i) => ({
    ...mixedTask(i, opts.runLog, opts.ioMs),
    ...(opts.webhook && { webhook: opts.webhook }),
  }));
  if (opts.batchSize) {
    for (let i = 0; i < n; i += opts.batchSize) {
      const chunk = specs.slice(i, i + opts.batchSize);
      const r = await post('/v1/tasks/batch', { tasks: chunk });
      if (r.status >= 200 && r.status < 300)
        r.body.items.forEach((t: Created, j: number) => accept(load, t, chunk[j]!));
      else refuse(load, r.status);
    }
    return;
  }
  let next = 0;
  const client = async () => {
    while (next < n) {
      const spec = specs[next++]!;
      const r = await post('/v1/tasks', spec);
      if (r.status >= 200 && r.status < 300) accept(load, r.body, spec);
      else refuse(load, r.status);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, client));
}

/**
 * Of the long runs `ids` (io tasks submitted with `ioMs`), those the executor `owner` holds that
 * started less than `withinMs` ago: each still has most of its run ahead, so a fault that comes
 * now lands in the middle of it.
 */
export async function freshRunsOf(
  store: TaskStoreClient,
  ids: ReadonlySet<string>,
  owner: string,
  withinMs = 2_000,
): Promise<string[]> {
  const { items } = await store.call('tasks.list', { status: 'running', type: 'faults.record', limit: 500 });
  return items
    .filter((t) => ids.has(t.id) && t.leaseOwner === owner)
    .filter((t) => Date.now() - Date.parse(t.startedAt!) < withinMs)
    .map((t) => t.id);
}
