/**
 * Tags and metadata on tasks, list filters by them (docs/tags-and-bulk-actions.md), and
 * tasks.bulkAction: pages of cancel/retry by filter through the single-task transitions.
 */
import { expect } from 'chai';
import type { ListParams } from '@tasks/contracts';
import { bucketOf, hourOf, nodesOf } from '../../src/index.js';
import { hourLabel, labelsOf } from '../../src/store/task-labels.js';
import { rejectsWith } from '../support/expect-store-error.js';
import { pageAll, startStore, type StoreFixture } from '@tasks/testkit';

describe('tags, metadata and bulk actions (integration)', function () {
  this.timeout(120_000);
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  it('when a task is created with tags and metadata, then reads and list summaries show them', async () => {
    const { task } = await f.client.call('tasks.create', {
      type: 'test.noop',
      tags: ['billing', 'eu-west/1'],
      metadata: { customer: 'c-42', run_id: 'r:7 =x' },
    });
    expect(task.tags).to.deep.equal(['billing', 'eu-west/1']);
    expect(task.metadata).to.deep.equal({ customer: 'c-42', run_id: 'r:7 =x' });
    const [summary] = (await f.client.call('tasks.list', {})).items;
    expect(summary).to.deep.include({
      tags: ['billing', 'eu-west/1'],
      metadata: { customer: 'c-42', run_id: 'r:7 =x' },
    });
    expect(summary).to.not.have.property('labels');
    const { task: plain } = await f.client.call('tasks.create', { type: 'test.noop' });
    expect(plain).to.deep.include({ tags: [], metadata: {} });
    const stored = await f.db.collection('tasks').findOne({ _id: plain.id as never });
    expect(stored).to.not.have.any.keys('tags', 'metadata', 'labels');
  });

  it('when tags or metadata break a limit, then VALIDATION_FAILED names the field and nothing is written', async () => {
    const bad: Record<string, unknown>[] = [
      { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
      { tags: ['a', 'a'] },
      { tags: [''] },
      { tags: ['x'.repeat(65)] },
      { tags: ['has space'] },
      { tags: 'solo' },
      { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
      { metadata: { 'a.b': 'v' } },
      { metadata: { 'a=b': 'v' } },
      { metadata: { ['k'.repeat(65)]: 'v' } },
      { metadata: { k: 'v'.repeat(257) } },
      { metadata: { k: 7 } },
      { metadata: { k: '\uD800' } },
    ];
    for (const extra of bad) {
      const err = await rejectsWith(
        f.client.call('tasks.create', { type: 'test.noop', ...extra }),
        'VALIDATION_FAILED',
      );
      expect(JSON.stringify(err.data?.fields), JSON.stringify(extra)).to.match(/\/(tags|metadata)/);
      await rejectsWith(
        f.client.call('tasks.createMany', {
          tasks: [{ type: 'test.noop' }, { type: 'test.noop', ...extra }],
        }),
        'VALIDATION_FAILED',
      );
    }
    expect(await f.db.collection('tasks').countDocuments()).to.equal(0);
    const edge = await f.client.call('tasks.create', {
      type: 'test.noop',
      tags: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(64, 'x')),
      metadata: Object.fromEntries(
        Array.from({ length: 16 }, (_, i) => [`k${i}`.padEnd(64, '_'), 'v'.repeat(256)]),
      ),
    });
    expect(edge.task.tags).to.have.length(10);
  });

  it('when listing by tags and metadata, with status and type, then every page holds exactly the matching tasks in order', async () => {
    await f.client.call('taskTypes.register', {
      workerId: 'fixture',
      types: [
        {
          type: 'test.other',
          kind: 'io',
          payloadSchema: { type: 'object' },
          timeoutMs: 5_000,
          maxAttempts: 1,
        },
      ],
    });
    const specs = Array.from({ length: 60 }, (_, n) => ({
      type: n % 2 === 0 ? 'test.noop' : 'test.other',
      tags: [n % 3 === 0 ? 'red' : 'blue', ...(n % 5 === 0 ? ['five'] : [])],
      metadata: { mod4: String(n % 4), ...(n % 7 === 0 && { seven: 'yes' }) },
    }));
    const { tasks } = await f.client.call('tasks.createMany', { tasks: specs });
    // Spread over many buckets and two hours, so walks cross buckets and read hours.
    const base = Date.parse('2026-03-01T00:00:00Z');
    const times = tasks.map((_, n) => base - n * 97_000);
    for (const [i, t] of tasks.entries()) {
      await f.db.collection('tasks').updateOne(
        { _id: t.id as never },
        {
          $set: {
            createdAt: new Date(times[i]!),
            bucket: bucketOf(times[i]!),
            hour: hourOf(times[i]!),
            // As the store writes it at creation: the labels scoped to the creation hour.
            hourLabels: labelsOf(specs[i]!.tags, specs[i]!.metadata).map((l) =>
              hourLabel(hourOf(times[i]!), l),
            ),
          },
        },
      );
    }
    await f.db
      .collection('task_buckets')
      .insertMany(nodesOf(times) as never[], { ordered: false })
      .catch(() => {});
    for (const [i, t] of tasks.entries()) if (i % 4 === 1) await f.client.call('tasks.cancel', { id: t.id });

    const all = tasks.map((t, n) => ({
      ...t,
      n,
      createdAt: times[n]!,
      status: n % 4 === 1 ? 'cancelled' : 'queued',
    }));
    const expected = (pick: (s: (typeof specs)[number], t: (typeof all)[number]) => boolean) =>
      all.filter((t) => pick(specs[t.n]!, t)).map((t) => t.id);
    const shapes: [ListParams, (s: (typeof specs)[number], t: (typeof all)[number]) => boolean][] = [
      [{ tags: ['red'] }, (s) => s.tags.includes('red')],
      [{ tags: ['blue', 'five'] }, (s) => s.tags.includes('blue') && s.tags.includes('five')],
      [{ metadata: { mod4: '2' } }, (s) => s.metadata.mod4 === '2'],
      [
        { tags: ['red'], metadata: { mod4: '0', seven: 'yes' } },
        (s) => s.tags.includes('red') && s.metadata.mod4 === '0' && s.metadata.seven === 'yes',
      ],
      [{ tags: ['red'], status: 'cancelled' }, (s, t) => s.tags.includes('red') && t.status === 'cancelled'],
      [
        { tags: ['blue'], type: 'test.other', status: 'queued' },
        (s, t) => s.tags.includes('blue') && s.type === 'test.other' && t.status === 'queued',
      ],
      [{ metadata: { mod4: '1' }, status: 'queued' }, () => false],
      [{ tags: ['nowhere'] }, () => false],
      [
        { tags: ['blue'], createdBefore: new Date(base - 20 * 97_000).toISOString() },
        (s, t) => s.tags.includes('blue') && t.createdAt < base - 20 * 97_000,
      ],
    ];
    for (const [shape, pick] of shapes) {
      for (const limit of [1, 4, 50]) {
        const ids = (await pageAll(f, { ...shape, limit })).map((t) => t.id);
        expect(ids, `${JSON.stringify(shape)} limit ${limit}`).to.deep.equal(expected(pick));
      }
    }
  });

  it('when a tag is rare across many hours, then the walk gives up for one query by the label and still pages in order', async () => {
    const specs = Array.from({ length: 45 }, (_, n) => ({
      type: 'test.noop',
      tags: n === 3 || n === 41 ? ['needle', 'hay'] : ['hay'],
    }));
    const { tasks } = await f.client.call('tasks.createMany', { tasks: specs });
    // One task an hour: the walk reads hour after hour, and after PROBE_AFTER_QUERIES asks the label index.
    const base = Date.parse('2026-03-01T00:30:00Z');
    const times = tasks.map((_, n) => base - n * 3_600_000);
    for (const [i, t] of tasks.entries()) {
      await f.db.collection('tasks').updateOne(
        { _id: t.id as never },
        {
          $set: {
            createdAt: new Date(times[i]!),
            bucket: bucketOf(times[i]!),
            hour: hourOf(times[i]!),
            hourLabels: labelsOf(specs[i]!.tags).map((l) => hourLabel(hourOf(times[i]!), l)),
          },
        },
      );
    }
    await f.db
      .collection('task_buckets')
      .insertMany(nodesOf(times) as never[], { ordered: false })
      .catch(() => {});
    for (const limit of [1, 50]) {
      const ids = (await pageAll(f, { tags: ['needle', 'hay'], limit })).map((t) => t.id);
      expect(ids).to.deep.equal([tasks[3]!.id, tasks[41]!.id]);
    }
  });

  it('when a bulk retry runs over failed tasks in pages, then each is queued once, a repeat changes nothing, and dryRun only counts', async () => {
    const { tasks } = await f.client.call('tasks.createMany', {
      tasks: Array.from({ length: 25 }, (_, n) => ({
        type: 'test.noop',
        tags: n < 20 ? ['batch'] : ['other'],
      })),
    });
    for (const t of tasks) await f.client.call('tasks.cancel', { id: t.id });
    const run = async (dryRun: boolean) => {
      let matched = 0;
      let changed = 0;
      const queued: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await f.client.call('tasks.bulkAction', {
          action: 'retry',
          filter: { tag: 'batch' },
          dryRun,
          limit: 7,
          ...(cursor && { cursor }),
        });
        expect(page.matched).to.be.at.most(7);
        matched += page.matched;
        changed += page.changed;
        queued.push(...page.tasks.map((t) => t.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return { matched, changed, queued };
    };
    expect(await run(true)).to.deep.equal({ matched: 20, changed: 0, queued: [] });
    expect(await f.db.collection('tasks').countDocuments({ status: 'cancelled' })).to.equal(25);
    const first = await run(false);
    expect(first.matched).to.equal(20);
    expect(first.changed).to.equal(20);
    expect(new Set(first.queued).size).to.equal(20);
    expect(await f.db.collection('tasks').countDocuments({ status: 'queued' })).to.equal(20);
    expect(await f.db.collection('task_outbox').countDocuments({ version: 3 })).to.equal(20);
    expect(await run(false)).to.deep.equal({ matched: 0, changed: 0, queued: [] });
  });

  it('when a bulk cancel names statuses, types or times, then only those are cancelled, each as tasks.cancel would', async () => {
    const { tasks } = await f.client.call('tasks.createMany', {
      tasks: Array.from({ length: 6 }, () => ({ type: 'test.noop' })),
    });
    await f.client.call('tasks.claim', { id: tasks[0]!.id, workerId: 'w1', leaseMs: 30_000 });
    await f.client.call('tasks.cancel', { id: tasks[1]!.id });
    const page = await f.client.call('tasks.bulkAction', {
      action: 'cancel',
      filter: { type: 'test.noop' },
      limit: 100,
    });
    // One page per status the action applies to (queued, waiting, running).
    expect(page).to.include({ matched: 4, changed: 4 });
    const next = await f.client.call('tasks.bulkAction', {
      action: 'cancel',
      filter: { type: 'test.noop' },
      cursor: page.nextCursor!,
    });
    const last = await f.client.call('tasks.bulkAction', {
      action: 'cancel',
      filter: { type: 'test.noop' },
      cursor: next.nextCursor!,
    });
    expect(last).to.include({ matched: 1, changed: 1, nextCursor: null });
    const running = await f.client.call('tasks.get', { id: tasks[0]!.id });
    expect(running.status).to.equal('cancelled');
    expect(running.history.at(-1)).to.include({ status: 'cancelled', by: 'bulk-action' });
    const none = await f.client.call('tasks.bulkAction', {
      action: 'cancel',
      filter: { createdAfter: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(none).to.include({ matched: 0, changed: 0 });
  });

  it('when a bulk action is malformed, then VALIDATION_FAILED and nothing changes', async () => {
    await f.client.call('tasks.create', { type: 'test.noop' });
    const bad: unknown[] = [
      { action: 'cancel', filter: {} },
      { action: 'delete', filter: { type: 'test.noop' } },
      { action: 'cancel' },
      { action: 'cancel', filter: { type: 'test.noop', color: 'red' } },
      { action: 'cancel', filter: { status: 'succeeded' } },
      { action: 'retry', filter: { status: 'queued' } },
      { action: 'cancel', filter: { type: 'test.noop' }, cursor: '9' },
      { action: 'cancel', filter: { type: 'test.noop' }, limit: 501 },
      { action: 'cancel', filter: { tag: [] } },
    ];
    for (const params of bad) {
      await rejectsWith(f.client.call('tasks.bulkAction', params as never), 'VALIDATION_FAILED');
    }
    expect(await f.db.collection('tasks').countDocuments({ status: 'queued' })).to.equal(1);
  });
});
