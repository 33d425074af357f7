/** GET /v1/dead-letters and GET /v1/workers: what an operator watches besides the tasks. */
import { Router } from '@koa/router';
import type { TaskSummary } from '@tasks/contracts';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';

/** A worker is listed when it claimed or finished a task this recently, or holds a lease now. */
export const WORKER_WINDOW_MS = 5 * 60_000;
/** Recent tasks read to find workers that are idle now (newest first). */
const RECENT_TASKS = 200;

export interface WorkerView {
  id: string;
  lastSeen: string;
  running: { taskId: string; type: string; startedAt: string | null; progress: number | null }[];
}

/** Workers from the tasks' leases and history: running tasks by lease owner, plus recent attempts. */
export function workersFrom(running: TaskSummary[], recent: TaskSummary[], now: number): WorkerView[] {
  const workers = new Map<string, WorkerView>();
  const seen = (id: string, at: string) => {
    const w = workers.get(id) ?? { id, lastSeen: at, running: [] };
    if (at > w.lastSeen) w.lastSeen = at;
    workers.set(id, w);
    return w;
  };
  for (const t of running) {
    if (!t.leaseOwner) continue;
    // A live lease is renewed by heartbeats: the worker was there at updatedAt at the latest.
    seen(t.leaseOwner, t.updatedAt).running.push({
      taskId: t.id,
      type: t.type,
      startedAt: t.startedAt,
      progress: t.progress,
    });
  }
  const since = new Date(now - WORKER_WINDOW_MS).toISOString();
  for (const t of recent) {
    for (const h of t.history ?? []) {
      if (h.at < since || h.by === 'unknown') continue;
      if (h.status === 'running' || h.status === 'succeeded' || h.status === 'failed') seen(h.by, h.at);
    }
  }
  return [...workers.values()].sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
}

export function operationsRoutes(deps: AppDeps): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/v1' });

  // Read from the store, where every gateway records what reaches the dead-letter queue.
  router.get('dead-letters', '/dead-letters', async (ctx: GatewayContext) => {
    const { count, items } = await deps.store.call(
      'deadLetters.list',
      { limit: 50 },
      { requestId: ctx.state.requestId },
    );
    ctx.body = { count, recent: items };
  });

  router.get('workers', '/workers', async (ctx: GatewayContext) => {
    const { requestId } = ctx.state;
    const [running, recent] = await Promise.all([
      deps.store.call('tasks.list', { status: 'running', limit: 500 }, { requestId }),
      // History is what tells who ran them; payloads and results are not read.
      deps.store.call('tasks.list', { limit: RECENT_TASKS, fields: ['history'] }, { requestId }),
    ]);
    ctx.body = { items: workersFrom(running.items, recent.items, Date.now()), windowMs: WORKER_WINDOW_MS };
  });

  return router;
}
