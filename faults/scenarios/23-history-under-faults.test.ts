/**
 * A task's whole history under faults (docs/history.md): tasks that fail on purpose are retried by
 * hand again and again, so that their history outgrows the task document and moves out in blocks,
 * while the store is SIGKILLed and restarted over and over. Afterwards each task's history, paged
 * through the gateway, holds every change made — the creation, each retry the test made, each run
 * the executors made (the run log) and its failure — once, in order.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { HISTORY_LIMIT, TRANSITIONS, type HistoryEntry, type Task } from '@tasks/contracts';
import { api, type RunningSystem, testMongoUrl } from '@tasks/testkit';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { scenario, sleep, until } from '../support/scenario.js';

const TASKS = 12;
/** Retries per task: 3 × 25 + 3 = 78 changes (more when a lease expired), two blocks moved out of the task. */
const RETRIES = 25;
/** Store SIGKILLs, one every few seconds while the retries go on. */
const KILLS = 6;

/** The task, once the store answers through the gateway (it may be down). */
async function read(sys: RunningSystem, id: string): Promise<Task> {
  for (let i = 0; ; i++) {
    const res = await api(sys.gatewayUrl, `/v1/tasks/${id}`).catch(() => undefined);
    if (res?.status === 200) return res.body as Task;
    if (i > 1_200) throw new Error(`task ${id} unreadable: ${JSON.stringify(res?.body)}`);
    await sleep(100);
  }
}

/** Waits until the task has failed at a version above `after`. */
async function failedAfter(sys: RunningSystem, id: string, after: number): Promise<Task> {
  const t0 = Date.now();
  for (;;) {
    const t = await read(sys, id);
    if (t.status === 'failed' && t.version > after) return t;
    if (Date.now() - t0 > 120_000) throw new Error(`task ${id} not failed again: ${JSON.stringify(t)}`);
    await sleep(200);
  }
}

/**
 * Retries the task RETRIES times, each once it has failed again. A retry whose answer was lost
 * (the store died) is judged by the task: only this loop changes a failed task, so a version past
 * the one it failed at means the retry landed; else it is sent again.
 */
async function cycle(sys: RunningSystem, id: string, progress: Map<string, number>): Promise<number> {
  let failed = await failedAfter(sys, id, 0);
  let resent = 0;
  for (let done = 0; done < RETRIES;) {
    const res = await api(sys.gatewayUrl, `/v1/tasks/${id}`, {
      method: 'PATCH',
      json: { status: 'queued' },
    }).catch(() => undefined);
    if (res?.status !== 200 && (await read(sys, id)).version === failed.version) {
      resent++;
      await sleep(100);
      continue;
    }
    done++;
    progress.set(id, done);
    failed = await failedAfter(sys, id, failed.version);
  }
  return resent;
}

/** Every entry, through the gateway, in small pages (so page edges fall inside and across blocks). */
async function wholeHistory(sys: RunningSystem, id: string): Promise<HistoryEntry[]> {
  const items: HistoryEntry[] = [];
  let cursor: string | null = null;
  do {
    const res = await api(
      sys.gatewayUrl,
      `/v1/tasks/${id}/history?limit=17${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    items.push(...(res.body.items as HistoryEntry[]));
    cursor = res.body.nextCursor as string | null;
  } while (cursor);
  return items;
}

describe('fault 23: history under faults', () => {
  scenario(
    'history: tasks retried by hand 25 times each while the store is SIGKILLed again and again',
    {
      load: `${TASKS} faults.record tasks that fail on purpose, each retried by hand ${RETRIES} times (${3 * RETRIES + 3} changes each), beside 100 mixed tasks from 16 clients (idempotent); 2 executors`,
      fault: `SIGKILL the store ${KILLS} times, 3.5 s apart, from when the histories near 50 entries (blocks start to move out); restart it 1 s later each time`,
    },
    {},
    async ({ sys, node, load, runLog }) => {
      const keys = new Map<string, string>();
      for (let i = 0; i < TASKS; i++) {
        const key = randomUUID();
        const res = await api(sys.gatewayUrl, '/v1/tasks', {
          method: 'POST',
          json: { type: 'faults.record', payload: { file: runLog, key, ms: 5, fail: true } },
        });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        keys.set((res.body as Task).id, key);
      }
      const ids = [...keys.keys()];
      const submitting = submit(sys.gatewayUrl, 100, load, { runLog, idempotent: true });
      let cycling = true;
      const progress = new Map<string, number>();
      const cycles = Promise.all(ids.map((id) => cycle(sys, id, progress))).finally(() => (cycling = false));
      // The kills start as the histories approach HISTORY_LIMIT: blocks move out while they go on.
      let kills = 0;
      await until(
        'retries under way',
        () => [...progress.values()].reduce((a, b) => a + b, 0) >= TASKS * 14,
        240_000,
      );
      const killsFrom = new Date();
      while (cycling && kills < KILLS) {
        sys.children.get('store')!.kill('SIGKILL');
        expect(await sys.exited('store')).to.equal('SIGKILL');
        kills++;
        await sleep(1_000);
        await sys.restart('store');
        await sleep(2_500);
      }
      const killsTo = new Date();
      const retriedByThen = [...progress.values()].reduce((a, b) => a + b, 0);
      const resent = (await cycles).reduce((a, b) => a + b, 0);
      await submitting;
      expect(kills, 'store kills during the retries').to.equal(KILLS);
      expect(retriedByThen, 'retries left after the kills').to.be.below(TASKS * RETRIES);

      load.accepted.push(...ids);
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog, {
        mayFail: new Set(ids),
      });

      const runs = new Map<string, number>();
      for (const key of readFileSync(runLog, 'utf8').split('\n'))
        if (key) runs.set(key, (runs.get(key) ?? 0) + 1);
      let entries = 0;
      let expired = 0;
      for (const id of ids) {
        const history = await wholeHistory(sys, id);
        entries += history.length;
        // What was made: the creation, each retry this test made (RETRIES, counted above), and before
        // and after each retry a failure on purpose; each claim (`running`), and each lease that
        // expired while the store was away (queued again, or claimed again). The run log brackets
        // the claims: a claim whose answer was lost may not have run, a run whose lease expired
        // did not fail the task. A block lost or written twice would break the chain or the counts.
        const ran = runs.get(keys.get(id)!) ?? 0;
        const what = `history of ${id}: ${history.map((h) => `${h.status}/${h.by}${h.error ? `/${h.error.code}` : ''}`).join(' ')}`;
        expect(history[0], what).to.include({ status: 'queued', by: 'create' });
        for (let i = 1; i < history.length; i++) {
          const [prev, next] = [history[i - 1]!, history[i]!];
          expect(
            TRANSITIONS[prev.status].includes(next.status),
            `${what}: ${prev.status} → ${next.status} at ${i}`,
          ).to.equal(true);
          if (next.status === 'queued' && next.by !== 'api')
            expect(next.error?.code, what).to.equal('LEASE_EXPIRED');
          if (next.status === 'failed') expect(next.error?.code, what).to.equal('ON_PURPOSE');
        }
        const count = (f: (h: HistoryEntry) => boolean) => history.filter(f).length;
        expect(
          count((h) => h.status === 'queued' && h.by === 'api'),
          `${what}: retries`,
        ).to.equal(RETRIES);
        const failures = count((h) => h.status === 'failed');
        expect(failures, `${what}: failures`).to.equal(RETRIES + 1);
        const claims = count((h) => h.status === 'running');
        expect(ran, `${what}: runs (run log)`).to.be.within(failures, claims);
        expect(history.at(-1)!.status, what).to.equal('failed');
        // Nothing else: creation, retries, claims, failures, re-queues after a lease expiry.
        const requeued = count((h) => h.status === 'queued' && h.error?.code === 'LEASE_EXPIRED');
        expect(history.length, `${what}: entries`).to.equal(1 + RETRIES + claims + failures + requeued);
        expired += count((h) => h.error?.code === 'LEASE_EXPIRED');
        for (let i = 1; i < history.length; i++)
          expect(Date.parse(history[i]!.at), `${id}: entry ${i} in time order`).to.be.at.least(
            Date.parse(history[i - 1]!.at),
          );
        const task = await read(sys, id);
        expect(task.historyOffset, `${id}: entries outside the task`).to.equal(
          history.length - task.history.length,
        );
        expect(task.history.length).to.be.at.most(HISTORY_LIMIT);
        expect(history.slice(-task.history.length), `${id}: the task carries the latest`).to.deep.equal(
          task.history,
        );
      }

      // Blocks beyond a task's offset are writes whose task update a kill cut off: never read.
      const mongo = new MongoClient(testMongoUrl());
      let ahead = 0;
      let blocks = 0;
      let duringKills = 0;
      try {
        const db = mongo.db(sys.dbName);
        for (const id of ids) {
          const task = await read(sys, id);
          const found = await db
            .collection<{ block: number; at: Date }>('task_history')
            .find({ taskId: id })
            .toArray();
          duringKills += found.filter((b) => b.at >= killsFrom && b.at <= killsTo).length;
          blocks += found.length;
          ahead += found.filter((b) => b.block * 25 >= (task.historyOffset ?? 0)).length;
        }
      } finally {
        await mongo.close();
      }
      return (
        `${TASKS} tasks × ${RETRIES} retries, ${retriedByThen} of them made before the last of ${kills} store SIGKILLs (${resent} sent again after a lost answer): ` +
        `every task's history complete — ${entries} entries: per task its creation, ${RETRIES} retries, every run in the run log and how each ended (${expired} by a lease expiry), in order, ` +
        `${blocks} blocks moved out, ${duringKills} of them while the kills went on (${ahead} written ahead of their task, unread); ${summary}`
      );
    },
  );
});
