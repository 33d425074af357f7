/**
 * What every fault scenario checks once its fault is over, against the store and the broker:
 * every accepted task is terminal, none succeeded twice, the queues drain, the counts add up.
 */
import { readFileSync, existsSync } from 'node:fs';
import { expect } from 'chai';
import {
  TaskStoreClient,
  TASK_STATUSES,
  TERMINAL_STATUSES,
  topology,
  DELAY_STEPS_MS,
  type HistoryEntry,
  type Stats,
  type TaskSummary,
} from '@tasks/contracts';
import type { Load } from './load.js';
import { until } from './scenario.js';
import type { RabbitNode } from '@tasks/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A listed task with its history (what the checks read), without payload and result. */
export type CheckedTask = TaskSummary & { history: HistoryEntry[] };

/** Every task in the store, page by page (summaries, with the extra `fields` asked for). */
async function* taskPages(store: TaskStoreClient, fields?: ['history']) {
  let cursor: string | undefined;
  do {
    const page = await store.call('tasks.list', {
      limit: 500,
      ...(fields && { fields }),
      ...(cursor && { cursor }),
    });
    yield page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

export async function allTasks(store: TaskStoreClient): Promise<Map<string, CheckedTask>> {
  const tasks = new Map<string, CheckedTask>();
  for await (const items of taskPages(store, ['history']))
    for (const t of items) tasks.set(t.id, { ...t, history: t.history ?? [] });
  return tasks;
}

/** Whether every task in the store is terminal, read task by task (summaries); undefined if the store did not answer. */
async function allTerminal(store: TaskStoreClient): Promise<boolean | undefined> {
  try {
    for await (const items of taskPages(store))
      if (items.some((t) => !TERMINAL_STATUSES.includes(t.status))) return false;
    return true;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the store holds no task that is not terminal; throws naming the stuck ones. Judged
 * from the tasks themselves, not from tasks.stats: after a store is killed the kept counts miss
 * its unflushed changes until the recount (docs/stats.md), and a count that reads 0 too early
 * would end the wait while tasks are still queued.
 */
export async function settle(
  storeUrl: string,
  timeoutMs: number,
  token?: string,
): Promise<{ tasks: Map<string, CheckedTask>; ms: number }> {
  const store = new TaskStoreClient({ url: storeUrl, timeoutMs: 10_000, token });
  const t0 = Date.now();
  for (;;) {
    if ((await allTerminal(store)) === true) {
      return { tasks: await allTasks(store), ms: Date.now() - t0 };
    }
    if (Date.now() - t0 > timeoutMs) {
      const stuck = [...(await allTasks(store)).values()].filter(
        (t) => !TERMINAL_STATUSES.includes(t.status),
      );
      const sample = stuck.slice(0, 3).map((t) => ({
        id: t.id,
        type: t.type,
        status: t.status,
        attempts: t.attempts,
        runAt: t.runAt,
        lease: t.leaseExpiresAt,
        history: t.history.slice(-4),
      }));
      throw new Error(
        `${stuck.length} tasks not terminal after ${timeoutMs} ms, e.g. ${JSON.stringify(sample)}`,
      );
    }
    await sleep(500);
  }
}

/** Tasks whose work message is not yet confirmed published (the outbox); undefined if the store did not answer. */
export async function outboxSize(storeUrl: string): Promise<number | undefined> {
  const store = new TaskStoreClient({ url: storeUrl, timeoutMs: 30_000 });
  return store.call('tasks.listUnpublished', { olderThanMs: 0, limit: 1000 }).then(
    (r) => r.items.length,
    () => undefined,
  );
}

/** Waits until the work and delay queues of `prefix` hold nothing, ready or unacked. */
export async function drained(node: RabbitNode, prefix: string, timeoutMs = 30_000): Promise<number> {
  const t = topology(prefix);
  const isWorkOrDelay = (name: string) =>
    name.startsWith(t.typeQueue('')) || DELAY_STEPS_MS.some((s) => name === t.waitQueue(s));
  const t0 = Date.now();
  for (;;) {
    const queues = await node.queues(prefix);
    const left = [...queues].filter(([name, q]) => isWorkOrDelay(name) && q.ready + q.unacked > 0);
    if (left.length === 0) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`queues not drained after ${timeoutMs} ms: ${JSON.stringify(left)}`);
    await sleep(500);
  }
}

export interface Expectations {
  /** Tasks allowed to end `failed` (by id); every other accepted task must end `succeeded`. */
  mayFail?: Set<string>;
  /** Each record task's handler ran to its end exactly once (not merely at least once). */
  exactlyOnceRuns?: boolean;
  settleTimeoutMs?: number;
  /** Tasks one request whose fate is unknown may have created (1; a batch's size when batches were cut off). */
  tasksPerUnknownRequest?: number;
  /** The bearer token to read the store with, when it requires one. */
  storeToken?: string;
}

/**
 * The invariants, asserted; returns a one-line summary for the table. `load.accepted` are the
 * tasks the gateway answered 2xx for; the store may hold a few more, created by requests whose
 * answer was lost in the fault (counted, and held to the same rules).
 */
export async function checkInvariants(
  storeUrl: string,
  node: RabbitNode,
  prefix: string,
  load: Load,
  runLog: string,
  want: Expectations = {},
): Promise<string> {
  const { tasks, ms } = await settle(storeUrl, want.settleTimeoutMs ?? 180_000, want.storeToken);
  const missing = load.accepted.filter((id) => !tasks.has(id));
  expect(missing, 'accepted tasks missing from the store').to.deep.equal([]);
  const twice = [...tasks.values()].filter(
    (t) => t.history.filter((h) => h.status === 'succeeded').length > 1,
  );
  expect(
    twice.map((t) => t.id),
    'tasks with two successes',
  ).to.deep.equal([]);
  const byStatus: Record<string, number> = {};
  for (const t of tasks.values()) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
  const unexpected = [...tasks.values()].filter((t) => t.status !== 'succeeded' && !want.mayFail?.has(t.id));
  expect(
    unexpected.map((t) => ({ id: t.id, type: t.type, status: t.status, error: t.error })),
    'tasks that did not succeed',
  ).to.deep.equal([]);
  const extra = tasks.size - load.accepted.length;
  expect(extra, 'tasks in the store beyond those accepted').to.be.at.least(0);
  // A request that got no answer, or a 5xx, may still have created its task before the fault.
  const unknown = [...load.refused]
    .filter(([status]) => status === 0 || status >= 500)
    .reduce((n, [, c]) => n + c, 0);
  expect(extra, 'tasks beyond those accepted, more than requests whose fate is unknown').to.be.at.most(
    unknown * (want.tasksPerUnknownRequest ?? 1),
  );

  const runs = new Map<string, number>();
  if (existsSync(runLog)) {
    for (const key of readFileSync(runLog, 'utf8').split('\n'))
      if (key) runs.set(key, (runs.get(key) ?? 0) + 1);
  }
  let repeated = 0;
  for (const [id, key] of load.recordKeys) {
    const n = runs.get(key) ?? 0;
    if (tasks.get(id)!.status === 'succeeded') expect(n, `runs of succeeded task ${id}`).to.be.at.least(1);
    if (want.exactlyOnceRuns) expect(n, `runs of task ${id}`).to.equal(1);
    repeated += Math.max(0, n - 1);
  }
  const again = [...tasks.values()].filter((t) => t.attempts > 1).length;
  const drainMs = await drained(node, prefix);
  const statuses = Object.entries(byStatus)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  return (
    `${load.accepted.length} accepted${extra ? ` (+${extra} from unanswered requests)` : ''} → ${statuses}; ` +
    `none succeeded twice; ${again} took more than one attempt, ${repeated} io handler runs repeated; ` +
    `all terminal ${(ms / 1000).toFixed(1)} s after the check began, queues empty ${(drainMs / 1000).toFixed(1)} s later`
  );
}

/** byStatus and byType counted task by task through tasks.list. */
export async function bruteForceStats(store: TaskStoreClient): Promise<Pick<Stats, 'byStatus' | 'byType'>> {
  const byStatus = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Stats['byStatus'];
  const byType: Stats['byType'] = {};
  for (const t of (await allTasks(store)).values()) {
    byStatus[t.status] += 1;
    const row = (byType[t.type] ??= {});
    row[t.status] = (row[t.status] ?? 0) + 1;
  }
  return { byStatus, byType };
}

/** Waits (at most 90 s) until tasks.stats equals a count of every task; answers how long that took. */
export async function untilStatsMatchCount(store: TaskStoreClient): Promise<number> {
  let last = '';
  return until(
    'stats equal a count of every task',
    async () => {
      const [s, want] = [await store.call('tasks.stats', {}), await bruteForceStats(store)];
      last = JSON.stringify({ stats: s.byStatus, count: want.byStatus });
      try {
        expect({ byStatus: s.byStatus, byType: s.byType }).to.deep.equal(want);
        return true;
      } catch {
        await sleep(400);
        return false;
      }
    },
    90_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last: ${last}`);
  });
}
