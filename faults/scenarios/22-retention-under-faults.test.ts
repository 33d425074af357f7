/**
 * Retention under faults (docs/retention.md): the store is SIGKILLed while its sweeper removes
 * cancelled tasks and clients retry some of the same tasks. Nothing non-terminal may be removed
 * (every retry answered 200 runs), every task the sweeper took answers 404, and the counts equal a
 * count of the tasks once the dead store's writer is recounted.
 */
import { readFileSync, existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { TaskStoreClient } from '@tasks/contracts';
import { bruteForceStats, untilStatsMatchCount } from '../support/checks.js';
import { scenario, sleep, until } from '../support/scenario.js';

const RECORD = 300;
const KEPT = 60;

/** One REST call; status 0 when no answer came (its fate is unknown). */
async function rest(base: string, path: string, method = 'GET', json?: unknown) {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: json === undefined ? {} : { 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  } catch (err) {
    return { status: 0, body: { error: String(err) } };
  }
}

describe('fault 22: retention under faults', () => {
  scenario(
    'store SIGKILLed mid-sweep while cancelled tasks are retried: nothing live removed, counts exact',
    {
      load: `${RECORD} cancelled faults.record tasks (retention 1 s, retried at random) + ${KEPT} primes.count (default retention)`,
      fault:
        'SIGKILL the store once 50 tasks are removed, sweeping 50 a pass every 200 ms; restart it at once',
    },
    {
      storeEnv: {
        TASK_RETENTION_SECONDS: '3600',
        RETENTION_SWEEP_INTERVAL_MS: '200',
        RETENTION_SWEEP_PAGE: '50',
      },
    },
    async ({ sys, runLog }) => {
      const gw = sys.gatewayUrl;
      const store = new TaskStoreClient({ url: sys.storeUrl, timeoutMs: 30_000 });
      const kept: string[] = [];
      for (let i = 0; i < KEPT; i++) {
        const r = await rest(gw, '/v1/tasks', 'POST', {
          type: 'primes.count',
          payload: { upTo: 10_000 + i },
        });
        expect(r.status).to.equal(201);
        kept.push(r.body.id);
      }
      // Delayed, then cancelled: finished tasks that never ran.
      const keys = new Map<string, string>();
      for (let i = 0; i < RECORD; i++) {
        const key = randomUUID();
        const r = await rest(gw, '/v1/tasks', 'POST', {
          type: 'faults.record',
          payload: { file: runLog, key, ms: 5 },
          delayMs: 600_000,
        });
        expect(r.status).to.equal(201);
        keys.set(r.body.id, key);
        expect((await rest(gw, `/v1/tasks/${r.body.id}`, 'PATCH', { status: 'cancelled' })).status).to.equal(
          200,
        );
      }
      const ids = [...keys.keys()];
      const set = await rest(gw, '/v1/task-types/faults.record', 'PATCH', { retentionSeconds: 1 });
      expect(set.status, JSON.stringify(set.body)).to.equal(200);

      // Clients retry half of them, in random order, while the sweeper removes them; a retry
      // whose fate is unknown (no answer, 503 while the store is down) is sent again, as a client
      // would. A 409 then means an earlier try went through (the task is no longer cancelled).
      const order = ids.filter((_, i) => i % 2 === 0).sort(() => Math.random() - 0.5);
      const answers = new Map<string, number>();
      const retryOne = async (id: string): Promise<number> => {
        for (let attempt = 0; attempt < 300; attempt++) {
          const { status } = await rest(gw, `/v1/tasks/${id}`, 'PATCH', { status: 'queued' });
          if (status !== 0 && status !== 503) return status;
          await sleep(100);
        }
        return 0;
      };
      const retrier = (async () => {
        let next = 0;
        const worker = async () => {
          while (next < order.length) {
            const id = order[next++]!;
            answers.set(id, await retryOne(id));
            await sleep(10);
          }
        };
        await Promise.all([worker(), worker(), worker(), worker()]);
      })();

      await until(
        '50 tasks removed',
        async () => (await store.call('tasks.stats', {})).byStatus.cancelled <= RECORD - 50,
        120_000,
      );
      sys.children.get('store')!.kill('SIGKILL');
      await sys.exited('store');
      await sys.restart('store', { LOG_LEVEL: 'info' });
      await retrier;

      const retried = [...answers].filter(([, s]) => s === 200 || s === 409).map(([id]) => id);
      const refused = [...answers].filter(([, s]) => s === 404).map(([id]) => id);
      const other = [...answers].filter(([, s]) => s !== 200 && s !== 409 && s !== 404);
      expect(other, 'retries answered otherwise').to.deep.equal([]);

      // Every retry that went through made a live (queued) task: it must run, not be swept.
      const ran = () =>
        new Set(existsSync(runLog) ? readFileSync(runLog, 'utf8').split('\n').filter(Boolean) : []);
      await until(
        'every task retried ran',
        () => {
          const r = ran();
          return retried.every((id) => r.has(keys.get(id)!));
        },
        180_000,
      );
      // And every faults.record task ends removed: retried ones once they finished again.
      await until(
        'every faults.record task removed',
        async () => {
          const s = await store.call('tasks.stats', {});
          return Object.values(s.byType['faults.record'] ?? {}).every((n) => n === 0);
        },
        180_000,
      );
      for (const id of [...refused, ...ids.slice(0, 20)])
        expect((await rest(gw, `/v1/tasks/${id}`)).status, `task ${id}`).to.equal(404);
      for (const id of kept) expect((await rest(gw, `/v1/tasks/${id}`)).status).to.equal(200);

      // The dead store's writer is recounted after STATS_DEAD_WRITER_MS; then stats are exact.
      const ms = await untilStatsMatchCount(store);
      await store.call('tasks.recount', {});
      const after = await store.call('tasks.stats', {});
      expect({ byStatus: after.byStatus, byType: after.byType }).to.deep.equal(await bruteForceStats(store));
      return (
        `${RECORD} cancelled, ${retried.length} retried (200, or 409 after a lost answer), ${refused.length} ` +
        `retries found the task removed (404); every retried task ran, every faults.record task removed, ${KEPT} kept; ` +
        `stats exact ${ms} ms after, and after a recount`
      );
    },
  );
});
