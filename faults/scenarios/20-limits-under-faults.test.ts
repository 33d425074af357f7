/**
 * Flow control under faults (docs/flow-control.md): a concurrency limit, a rate limit and a pause
 * hold while an executor holding a slot is SIGKILLed and the store is SIGKILLed and restarted.
 * The limits are judged from the store's history of each task: every `running` entry opens a run
 * that the task's next entry closes (its outcome, or the lease expiry that handed it back).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { rateBurst, TaskStoreClient, type HistoryEntry, type Task } from '@tasks/contracts';
import { api, type RunningSystem, testMongoUrl } from '@tasks/testkit';
import { allTasks, checkInvariants, type CheckedTask } from '../support/checks.js';
import { submit } from '../support/load.js';
import { scenario, sleep, until } from '../support/scenario.js';

const CONCURRENCY = 3;
const RATE = 25;
const TASKS = 400;

async function put(sys: RunningSystem, path: string, method: 'PUT' | 'PATCH', json: object): Promise<void> {
  const res = await api(sys.gatewayUrl, path, { method, json });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.equal(200);
}

/** Each run of a task as the store recorded it: from a `running` entry to the entry after it. */
function runsOf(t: CheckedTask): { start: number; end: number }[] {
  const h: HistoryEntry[] = t.history;
  return h.flatMap((e, i) =>
    e.status === 'running' ? [{ start: Date.parse(e.at), end: Date.parse(h[i + 1]?.at ?? e.at) }] : [],
  );
}

function largestOverlap(runs: { start: number; end: number }[]): number {
  const edges = runs.flatMap((r) => [
    { at: r.start, d: 1 },
    { at: r.end, d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (now += e.d));
  return most;
}

/** The most starts in any window, beyond what burst + rate × (window + 1 s) allows (≤ 0 when the rate held). */
function rateExcess(starts: number[], rate: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let worst = -Infinity;
  for (let i = 0; i < sorted.length; i++)
    for (let j = i; j < sorted.length; j++) {
      // docs/flow-control.md: burst + rate × (T + 1 s), a start time being honoured up to 1 s late.
      const allowed = rateBurst(rate) + rate * ((sorted[j]! - sorted[i]!) / 1000 + 1) + 1;
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  return worst;
}

describe('fault 20: limits under faults', () => {
  scenario(
    'limits: concurrency, rate and pause through an executor SIGKILL and a store SIGKILL',
    {
      load: `${TASKS} mixed tasks (faults.record limited to ${CONCURRENCY} at once, primes.count to ${RATE}/s), 16 clients POSTing (idempotent), 2 executors; 20 sleep tasks of a paused type`,
      fault:
        'SIGKILL the executor running a long faults.record task (holding a slot), start another; SIGKILL the store with half the load done, restart it; resume the paused type',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      await put(sys, '/v1/task-types/faults.record/limits', 'PUT', { concurrency: CONCURRENCY });
      await put(sys, '/v1/task-types/primes.count/limits', 'PUT', { ratePerSecond: RATE });
      await put(sys, '/v1/task-types/sleep', 'PATCH', { paused: true });
      const paused: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await api(sys.gatewayUrl, '/v1/tasks', {
          method: 'POST',
          json: { type: 'sleep', payload: { ms: 50 } },
        });
        expect(res.status).to.equal(201);
        paused.push((res.body as Task).id);
      }
      // Long faults.record runs first: the executor running one is SIGKILLed while it holds a slot,
      // which stays taken until the lease expires and the task is handed back.
      const long: Task[] = [];
      for (let i = 0; i < 3; i++) {
        const key = randomUUID();
        const res = await api(sys.gatewayUrl, '/v1/tasks', {
          method: 'POST',
          json: { type: 'faults.record', payload: { file: runLog, key, ms: 4_000 } },
        });
        expect(res.status).to.equal(201);
        long.push(res.body as Task);
        load.accepted.push((res.body as Task).id);
        load.recordKeys.set((res.body as Task).id, key);
      }
      const submitting = submit(sys.gatewayUrl, TASKS, load, { runLog, idempotent: true });
      let victim: Task | undefined;
      await until(
        'a long faults.record task running',
        async () => {
          const now = await Promise.all(
            long.map(async (t) => (await api(sys.gatewayUrl, `/v1/tasks/${t.id}`)).body as Task),
          );
          victim = now.find((t) => t.status === 'running');
          return victim !== undefined;
        },
        60_000,
      );
      const victimExecutor = [...sys.children].find(
        ([name, child]) => name.startsWith('executor-') && victim!.leaseOwner!.includes(`-${child.pid}-`),
      )![0];
      sys.children.get(victimExecutor)!.kill('SIGKILL');
      expect(await sys.exited(victimExecutor)).to.equal('SIGKILL');
      await sys.addExecutor();

      await until('half the load accepted', () => load.accepted.length >= TASKS / 2, 120_000);
      sys.children.get('store')!.kill('SIGKILL');
      expect(await sys.exited('store')).to.equal('SIGKILL');
      await sys.restart('store');
      await submitting;
      expect(load.accepted, 'every POST accepted (idempotent retries)').to.have.length(TASKS + long.length);

      // Still paused after all that: none of its tasks has started.
      await sleep(1_000);
      for (const id of paused) {
        const t = (await api(sys.gatewayUrl, `/v1/tasks/${id}`)).body as Task;
        expect(t, `paused task ${id}`).to.include({ status: 'queued', attempts: 0 });
      }
      await put(sys, '/v1/task-types/sleep', 'PATCH', { paused: false });
      load.accepted.push(...paused);

      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      const tasks = [
        ...(await allTasks(new TaskStoreClient({ url: sys.storeUrl, timeoutMs: 10_000 }))).values(),
      ];
      const recordRuns = tasks.filter((t) => t.type === 'faults.record').flatMap(runsOf);
      const overlap = largestOverlap(recordRuns);
      expect(overlap, 'faults.record runs at once (store history)').to.be.at.most(CONCURRENCY);
      const primeStarts = tasks
        .filter((t) => t.type === 'primes.count')
        .flatMap((t) => runsOf(t).map((r) => r.start));
      const excess = rateExcess(primeStarts, RATE);
      expect(excess, 'primes.count starts beyond burst + rate × (time + 1 s)').to.be.at.most(0);
      const victimNow = tasks.find((t) => t.id === victim!.id)!;
      expect(victimNow.attempts, 'attempts of the task whose executor was killed').to.equal(2);

      const mongo = new MongoClient(testMongoUrl());
      try {
        const db = mongo.db(sys.dbName);
        const leftMs = await until(
          'no slot or hold left',
          async () =>
            (await db.collection('task_type_slots').countDocuments()) +
              (await db.collection('task_holds').countDocuments()) ===
            0,
          30_000,
        );
        return (
          `${summary}; faults.record at most ${overlap} at once (limit ${CONCURRENCY}), primes.count ${primeStarts.length} starts within burst + ${RATE}/s × (T + 1 s) (margin ${(-excess).toFixed(1)}); ` +
          `the task running on the SIGKILLed ${victimExecutor} ran again (2 attempts) once its lease and slot expired; 20 paused sleep tasks stayed queued through both kills and ran once resumed; ` +
          `no slot or hold left ${(leftMs / 1000).toFixed(1)} s after the checks`
        );
      } finally {
        await mongo.close();
      }
    },
  );
});
