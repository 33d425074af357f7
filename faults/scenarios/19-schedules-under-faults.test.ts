import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import type { Schedule, TaskSummary } from '@tasks/contracts';
import { api, type RunningSystem, testMongoUrl } from '@tasks/testkit';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { scenario, sleep } from '../support/scenario.js';

/** Every task the schedule created, oldest tick first (through the gateway, as a client would). */
async function tasksOf(sys: RunningSystem, scheduleId: string): Promise<TaskSummary[]> {
  const items: TaskSummary[] = [];
  let cursor: string | null = null;
  do {
    const res = await api(
      sys.gatewayUrl,
      `/v1/tasks?type=noop&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    items.push(...(res.body.items as TaskSummary[]));
    cursor = res.body.nextCursor as string | null;
  } while (cursor);
  // In tick order: the key holds the tick (the same ISO form for every tick, so text order is time order).
  return items
    .filter((t) => t.scheduleId === scheduleId)
    .sort((a, b) => (a.idempotencyKey ?? '').localeCompare(b.idempotencyKey ?? ''));
}

/** SIGKILL, then wait until it is gone. */
async function kill(sys: RunningSystem, name: string): Promise<void> {
  sys.children.get(name)!.kill('SIGKILL');
  expect(await sys.exited(name)).to.equal('SIGKILL');
}

describe('fault 19: schedules under faults', () => {
  scenario(
    'schedules: a store SIGKILLed while a seconds cron fires, then both stores at once',
    {
      load: '300 mixed cpu/io tasks, 16 clients POSTing (idempotent), 2 executors, 2 stores and 2 gateways; a schedule firing a noop task every second',
      fault:
        'SIGKILL one store (the other fires on), restart it 2 s later; then SIGKILL both stores, restart them 4 s later (ticks missed meanwhile fire late)',
    },
    { replicas: 2 },
    async ({ sys, node, load, runLog }) => {
      const created = await api(sys.gatewayUrl, '/v1/schedules', {
        method: 'POST',
        json: {
          name: 'each second',
          cron: '* * * * * *',
          task: { type: 'noop', payload: {} },
          overlap: 'allow',
        },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const schedule = created.body as Schedule;
      const submitting = submit(sys.gatewayUrls[1]!, 300, load, { runLog, idempotent: true });

      await sleep(3_000);
      await kill(sys, 'store');
      await sleep(2_000);
      await sys.restart('store');
      await sleep(3_000);
      const downFrom = Date.now();
      await Promise.all([kill(sys, 'store'), kill(sys, 'store-2')]);
      await sleep(4_000);
      await Promise.all([sys.restart('store'), sys.restart('store-2')]);
      const downMs = Date.now() - downFrom;
      await sleep(3_000);
      const paused = await api(sys.gatewayUrl, `/v1/schedules/${schedule.id}`, {
        method: 'PATCH',
        json: { paused: true },
      });
      expect(paused.status, JSON.stringify(paused.body)).to.equal(200);
      await sleep(1_500); // a keeper pass under way ends
      await submitting;
      expect(load.accepted, 'every POST accepted (idempotent retries)').to.have.length(300);

      const tasks = await tasksOf(sys, schedule.id);
      const keys = tasks.map((t) => t.idempotencyKey);
      expect(new Set(keys).size, 'ticks with two tasks').to.equal(keys.length);
      const prefix = `schedule:${schedule.id}:`;
      expect(
        keys.filter((k) => !k?.startsWith(prefix)),
        'keys not derived from the schedule',
      ).to.deep.equal([]);
      const ticks = keys.map((k) => Date.parse(k!.slice(prefix.length)));
      expect(keys, 'keys derived from schedule and tick').to.deep.equal(
        ticks.map((tick) => `${prefix}${Number.isNaN(tick) ? 'NaN' : new Date(tick).toISOString()}`),
      );
      // A task is due at its tick; one released or requeued since (its executor's store killed
      // mid-run) is due again from then, later, never earlier.
      expect(
        tasks.filter((t, i) => Date.parse(t.runAt) < ticks[i]!).map((t) => t.id),
        'tasks due before their tick',
      ).to.deep.equal([]);
      // Every second of the window has its task: none lost to a kill, those of the outage fired late.
      const seconds = ticks.map((tick) => tick / 1000);
      expect(seconds, 'one task per second, no gap').to.deep.equal(seconds.map((_, i) => seconds[0]! + i));
      expect(seconds[0]! * 1000 - Date.parse(schedule.createdAt), 'first tick').to.be.below(1_500);
      expect(Date.parse(paused.body.updatedAt) - seconds.at(-1)! * 1000, 'last tick').to.be.below(2_500);
      const late = tasks.filter((t, i) => Date.parse(t.createdAt) - ticks[i]! > 1_500).length;
      expect(late, 'ticks of the outage, created late').to.be.at.least(2);

      // No tick's key was taken without its task being written (a kill between the two).
      const mongo = new MongoClient(testMongoUrl());
      let keysTaken = 0;
      try {
        const { databases } = await mongo.db('admin').admin().listDatabases({ nameOnly: true });
        for (const { name } of databases.filter((d) => d.name.startsWith('e2e_'))) {
          const entries = await mongo
            .db(name)
            .collection<{ _id: string; taskId: string }>('task_idempotency')
            .find({ _id: { $regex: `^schedule:${schedule.id}:` } })
            .toArray();
          keysTaken += entries.length;
          const ids = new Set(tasks.map((t) => t.id));
          expect(
            entries.filter((e) => !ids.has(e.taskId)).map((e) => e._id),
            'tick keys without their task',
          ).to.deep.equal([]);
        }
      } finally {
        await mongo.close();
      }
      expect(keysTaken).to.equal(tasks.length);

      load.accepted.push(...tasks.map((t) => t.id));
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      return (
        `${tasks.length} ticks → ${tasks.length} tasks, one per second with no gap and none twice (${late} fired late after both stores were down ${(downMs / 1000).toFixed(1)} s), ` +
        `every tick key held by its task; ${summary}`
      );
    },
  );
});
