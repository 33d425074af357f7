import { expect } from 'chai';
import { scheduleTickKey, type CreateScheduleParams, type TaskStatus } from '@tasks/contracts';
import { createLogger } from '../../src/index.js';
import { openCollections } from '../../src/store/collections.js';
import type { ScheduleDoc, ScheduleRunDoc } from '../../src/store/documents.js';
import { fireDueSchedules } from '../../src/store/schedule-keeper.js';
import { TaskTypeRegistry } from '../../src/store/task-type-registry.js';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const everySecond: CreateScheduleParams = {
  name: 'tick',
  cron: '* * * * * *',
  task: { type: 'test.noop', payload: { n: 1 } },
  overlap: 'allow',
};

describe('schedules (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const tasksOf = (scheduleId: string) =>
    f.db
      .collection<{ _id: string; idempotencyKey: string; runAt: Date; status: TaskStatus }>('tasks')
      .find({ scheduleId })
      .sort({ runAt: 1 })
      .toArray();

  it('when a schedule is created, then it has an id, defaults and its next tick, and reads back the same', async () => {
    const s = await f.client.call('schedules.create', {
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      task: { type: 'test.noop', payload: { n: 2 }, maxAttempts: 1 },
    });
    expect(s).to.include({ name: 'nightly', overlap: 'skip', paused: false, lastRunAt: null, skipped: 0 });
    expect(new Date(s.nextRunAt!).getUTCHours()).to.be.oneOf([1, 2]); // 03:00 in Berlin
    expect(await f.client.call('schedules.get', { id: s.id })).to.deep.equal(s);
    expect((await f.client.call('schedules.list', {})).items.map((x) => x.id)).to.deep.equal([s.id]);
  });

  it('when the cron, timezone, type or payload is bad, then it is refused, naming the field, and nothing is written', async () => {
    const bad = async (p: Partial<CreateScheduleParams>, type: Parameters<typeof rejectsWith>[1]) =>
      rejectsWith(f.client.call('schedules.create', { ...everySecond, ...p }), type);
    expect((await bad({ cron: '*/0 * * *' }, 'VALIDATION_FAILED')).data?.fields?.[0]?.path).to.equal('/cron');
    expect((await bad({ timezone: 'Nowhere/Land' }, 'VALIDATION_FAILED')).data?.fields?.[0]?.path).to.equal(
      '/timezone',
    );
    await bad({ task: { type: 'no.such.type' } }, 'UNKNOWN_TASK_TYPE');
    const payload = await bad({ task: { type: 'test.noop', payload: { n: -1 } } }, 'PAYLOAD_INVALID');
    expect(payload.data?.fields?.[0]?.path).to.match(/^\/task\/payload/);
    expect((await f.client.call('schedules.list', {})).items).to.deep.equal([]);
    const s = await f.client.call('schedules.create', { ...everySecond, paused: true });
    await rejectsWith(f.client.call('schedules.update', { id: s.id, cron: 'nope' }), 'VALIDATION_FAILED');
    expect((await f.client.call('schedules.get', { id: s.id })).cron).to.equal(everySecond.cron);
  });

  it('when two stores fire a seconds cron, then each tick creates exactly one task, keyed by schedule and tick', async () => {
    const second = await startStore({}, { dbName: f.db.databaseName });
    try {
      const s = await f.client.call('schedules.create', everySecond);
      await sleep(4_200);
      await f.client.call('schedules.update', { id: s.id, paused: true });
      await sleep(1_100); // a pass under way ends
      const tasks = await tasksOf(s.id);
      expect(tasks.length).to.be.within(3, 6);
      const keys = tasks.map((t) => t.idempotencyKey);
      expect(new Set(keys).size).to.equal(keys.length);
      // Consecutive seconds: no tick missed, none twice.
      const seconds = tasks.map((t) => t.runAt.getTime() / 1000);
      expect(seconds).to.deep.equal(seconds.map((_, i) => seconds[0]! + i));
      expect(keys).to.deep.equal(tasks.map((t) => scheduleTickKey(s.id, t.runAt)));
      const task = await f.client.call('tasks.get', { id: tasks[0]!._id });
      expect(task).to.include({ scheduleId: s.id, status: 'queued', type: 'test.noop' });
      // Nobody publishes it at once: its outbox entry is old enough for the dispatcher's next pass.
      const entry = await f.db
        .collection<{ _id: string; at: Date }>('task_outbox')
        .findOne({ _id: `${task.id}:${task.version}` });
      expect(Date.parse(task.createdAt) - entry!.at.getTime()).to.be.at.least(60_000);
      const after = await f.client.call('schedules.get', { id: s.id });
      expect(after.lastTaskId).to.equal(tasks.at(-1)!._id);
      // Each task counted once as created, by whichever store created it.
      const created = await Promise.all(
        [f.service.url, second.service.url].map(async (url) => {
          const text = await (await fetch(url.replace(/\/rpc$/, '/metrics'))).text();
          const line = /^task_store_schedule_ticks_total\{[^}]*outcome="created"[^}]*\} (\d+)$/m.exec(text);
          return Number(line?.[1] ?? 0);
        }),
      );
      expect(created[0]! + created[1]!).to.equal(tasks.length);
      expect(after.nextRunAt).to.equal(null);
    } finally {
      await second.stop();
    }
  });

  it('when overlap is skip and the last task has not ended, then later ticks create nothing and are counted', async () => {
    const s = await f.client.call('schedules.create', { ...everySecond, overlap: 'skip' });
    await sleep(3_200);
    const tasks = await tasksOf(s.id);
    expect(tasks).to.have.length(1); // queued, never claimed: still to end
    const after = await f.client.call('schedules.get', { id: s.id });
    expect(after.skipped).to.be.at.least(1);
    expect(after.lastSkippedAt).to.be.a('string');
  });

  it('when a schedule is paused and resumed, then the ticks in between never fire', async () => {
    const s = await f.client.call('schedules.create', { ...everySecond, paused: true });
    await sleep(2_500);
    expect(await tasksOf(s.id)).to.have.length(0);
    const resumedAt = Date.now();
    const resumed = await f.client.call('schedules.update', { id: s.id, paused: false });
    expect(resumed.paused).to.equal(false);
    await sleep(2_000);
    const tasks = await tasksOf(s.id);
    expect(tasks.length).to.be.at.least(1);
    for (const t of tasks) expect(t.runAt.getTime()).to.be.greaterThan(resumedAt - 1_000);
  });

  it('when all stores were down for longer than the catch-up window, then the older missed ticks fire once, not once each', async () => {
    const s = await f.client.call('schedules.create', {
      ...everySecond,
      cron: '* * * * *',
      paused: true,
    });
    // As if created (and last fired) ten minutes ago, then every store stopped.
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    await f.db
      .collection<ScheduleDoc>('schedules')
      .updateOne({ _id: s.id }, { $set: { since: tenMinutesAgo } });
    await f.db.collection<ScheduleDoc>('schedules').updateOne({ _id: s.id }, { $set: { paused: false } });
    await sleep(2_200);
    const runAts = (await tasksOf(s.id)).map((t) => t.runAt.getTime());
    // The latest tick older than the window, and the one within it.
    expect(runAts).to.have.length(2);
    expect(runAts[1]! - runAts[0]!).to.equal(60_000);
    expect(Date.now() - runAts[1]!).to.be.below(62_200);
  });

  it('when a schedule is edited and deleted, then the edits show and it is gone, its tasks kept', async () => {
    const s = await f.client.call('schedules.create', everySecond);
    const edited = await f.client.call('schedules.update', {
      id: s.id,
      name: 'renamed',
      task: { type: 'test.noop', payload: { n: 5 } },
    });
    expect(edited).to.include({ name: 'renamed', version: 2 });
    expect(edited.task).to.deep.equal({ type: 'test.noop', payload: { n: 5 } });
    await sleep(1_500);
    expect(await f.client.call('schedules.delete', { id: s.id })).to.deep.equal({ deleted: true });
    expect(await f.client.call('schedules.delete', { id: s.id })).to.deep.equal({ deleted: false });
    await rejectsWith(f.client.call('schedules.get', { id: s.id }), 'SCHEDULE_NOT_FOUND');
    await rejectsWith(f.client.call('schedules.update', { id: s.id, paused: true }), 'SCHEDULE_NOT_FOUND');
    expect((await tasksOf(s.id)).length).to.be.at.least(1);
  });

  it('when a keeper tries ticks that fired already (its run state lost), even after the task was edited, then it creates nothing', async () => {
    const s = await f.client.call('schedules.create', everySecond);
    await f.stop(); // from here on, only this test's keeper fires (a second store, by hand, on its clock)
    const collections = openCollections(f.db);
    const keeper = { collections, registry: new TaskTypeRegistry(collections) };
    const log = createLogger('silent');
    const schedules = f.db.collection<ScheduleDoc>('schedules');
    const runs = f.db.collection<ScheduleRunDoc>('schedule_runs');
    const { since } = (await schedules.findOne({ _id: s.id }))!;
    const now = new Date(since.getTime() + 3_500);
    await fireDueSchedules(keeper, { log, now });
    const fired = await tasksOf(s.id);
    const seconds: number[] = [];
    for (let t = Math.floor(since.getTime() / 1000) * 1000 + 1000; t <= now.getTime(); t += 1000)
      seconds.push(t);
    expect(fired.map((t) => t.runAt.getTime())).to.deep.equal(seconds);

    await schedules.updateOne(
      { _id: s.id },
      { $set: { taskJson: JSON.stringify({ type: 'test.noop', payload: { n: 9 } }) } },
    );
    await runs.deleteMany({});
    const outcomes: string[] = [];
    expect(await fireDueSchedules(keeper, { log, now, onTick: (o) => outcomes.push(o) })).to.equal(0);
    expect(outcomes).to.deep.equal(fired.map(() => 'existing'));
    expect((await tasksOf(s.id)).map((t) => t._id)).to.deep.equal(fired.map((t) => t._id));
    const run = (await runs.findOne({ _id: s.id }))!;
    expect(run.lastTaskId).to.equal(fired.at(-1)!._id);
    expect(run.lastError).to.equal(null);
  });

  it('when a tick’s task is refused (its payload no longer fits the type), then the tick passes with lastError and the schedule goes on', async () => {
    // Paused until the store is stopped: no tick can fire before this test's keeper runs.
    const s = await f.client.call('schedules.create', { ...everySecond, paused: true });
    await f.stop();
    const collections = openCollections(f.db);
    const keeper = { collections, registry: new TaskTypeRegistry(collections) };
    const schedules = f.db.collection<ScheduleDoc>('schedules');
    const { since } = (await schedules.findOne({ _id: s.id }))!;
    // As if the type had been registered again with a stricter schema.
    await schedules.updateOne(
      { _id: s.id },
      { $set: { paused: false, taskJson: JSON.stringify({ type: 'test.noop', payload: { n: -1 } }) } },
    );
    const now = new Date(Math.floor(since.getTime() / 1000) * 1000 + 2_000); // two ticks after since
    const outcomes: string[] = [];
    const log = createLogger('silent');
    expect(await fireDueSchedules(keeper, { log, now, onTick: (o) => outcomes.push(o) })).to.equal(0);
    expect(outcomes).to.deep.equal(['refused', 'refused']);
    const run = (await f.db.collection<ScheduleRunDoc>('schedule_runs').findOne({ _id: s.id }))!;
    expect(run.lastError?.code).to.equal('PAYLOAD_INVALID');
    expect(run.lastTick.getTime()).to.equal(now.getTime());
    expect(await tasksOf(s.id)).to.have.length(0);
  });
});
