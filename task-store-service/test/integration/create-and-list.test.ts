import { expect } from 'chai';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

describe('creating and listing tasks (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  it('when runAt is more than 366 days ahead, then VALIDATION_FAILED on /runAt; 365 days ahead is accepted', async () => {
    const ahead = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const err = await rejectsWith(
      f.client.call('tasks.create', { type: 'test.noop', payload: {}, runAt: ahead(367) }),
      'VALIDATION_FAILED',
    );
    expect(err.data?.fields).to.deep.equal([
      { path: '/runAt', message: 'must be at most 366 days from now' },
    ]);
    const many = await rejectsWith(
      f.client.call('tasks.createMany', {
        tasks: [
          { type: 'test.noop', payload: {} },
          { type: 'test.noop', payload: {}, runAt: ahead(400) },
        ],
      }),
      'VALIDATION_FAILED',
    );
    expect(many.data?.fields?.[0]?.path).to.equal('/tasks/1/runAt');
    const ok = await f.client.call('tasks.create', { type: 'test.noop', payload: {}, runAt: ahead(365) });
    expect(ok.task.status).to.equal('queued');
  });

  it('when the same idempotency key and body are sent again, then the first task comes back, not newly created', async () => {
    const body = { type: 'test.noop', payload: { n: 2 }, idempotencyKey: 'order-42' };
    const first = await f.client.call('tasks.create', body);
    const again = await f.client.call('tasks.create', {
      payload: { n: 2 },
      idempotencyKey: 'order-42',
      type: 'test.noop',
    });
    expect(first.created).to.equal(true);
    expect(again.created).to.equal(false);
    expect(again.task.id).to.equal(first.task.id);
    expect(await f.db.collection('tasks').countDocuments()).to.equal(1);
  });

  it('when the same idempotency key comes with another body, then IDEMPOTENCY_CONFLICT and nothing is written', async () => {
    const first = await f.client.call('tasks.create', {
      type: 'test.noop',
      payload: { n: 1 },
      idempotencyKey: 'k',
    });
    const err = await rejectsWith(
      f.client.call('tasks.create', { type: 'test.noop', payload: { n: 9 }, idempotencyKey: 'k' }),
      'IDEMPOTENCY_CONFLICT',
    );
    expect(err.data?.taskId).to.equal(first.task.id);
    expect(await f.db.collection('tasks').countDocuments()).to.equal(1);
  });

  it('when ten callers race with one idempotency key, then one task exists and all get it', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        f.client.call('tasks.create', { type: 'test.noop', payload: { n: 3 }, idempotencyKey: 'race' }),
      ),
    );
    expect(new Set(results.map((r) => r.task.id)).size).to.equal(1);
    expect(results.filter((r) => r.created)).to.have.length(1);
    expect(await f.db.collection('tasks').countDocuments()).to.equal(1);
  });

  it('when the type is unknown, then UNKNOWN_TASK_TYPE lists the known types', async () => {
    const err = await rejectsWith(f.client.call('tasks.create', { type: 'no.such' }), 'UNKNOWN_TASK_TYPE');
    expect(err.data?.known).to.deep.equal(['test.noop']);
  });

  it('when the payload fails the type schema, then PAYLOAD_INVALID names the field and nothing is written', async () => {
    const err = await rejectsWith(
      f.client.call('tasks.create', { type: 'test.noop', payload: { n: -1, extra: true } }),
      'PAYLOAD_INVALID',
    );
    expect(err.data?.fields?.map((x) => x.path)).to.include.members(['/payload/n', '/payload/extra']);
    expect(await f.db.collection('tasks').countDocuments()).to.equal(0);
  });

  it('when the kind contradicts the registered type, then TYPE_KIND_MISMATCH', async () => {
    await rejectsWith(
      f.client.call('tasks.create', { type: 'test.noop', kind: 'cpu' }),
      'TYPE_KIND_MISMATCH',
    );
  });

  it('when createMany has one bad item, then none is written; when all are good, all are', async () => {
    const good = Array.from({ length: 5 }, (_, n) => ({ type: 'test.noop', payload: { n } }));
    await rejectsWith(
      f.client.call('tasks.createMany', { tasks: [...good, { type: 'test.noop', payload: { n: 'x' } }] }),
      'PAYLOAD_INVALID',
    );
    expect(await f.db.collection('tasks').countDocuments()).to.equal(0);
    const { tasks } = await f.client.call('tasks.createMany', { tasks: good });
    expect(tasks.map((t) => t.payload)).to.deep.equal(good.map((g) => g.payload));
    expect(await f.db.collection('tasks').countDocuments()).to.equal(5);
  });

  it('when delayMs is given, then runAt is that long after creation; with runAt too, VALIDATION_FAILED', async () => {
    const { task } = await f.client.call('tasks.create', { type: 'test.noop', delayMs: 90_000 });
    expect(Date.parse(task.runAt) - Date.parse(task.createdAt)).to.equal(90_000);
    const both = { type: 'test.noop', delayMs: 1, runAt: new Date().toISOString() };
    await rejectsWith(f.client.call('tasks.create', both), 'VALIDATION_FAILED');
    await rejectsWith(f.client.call('tasks.createMany', { tasks: [both] }), 'VALIDATION_FAILED');
    expect((await f.client.call('tasks.list', {})).items.map((t) => t.id)).to.deep.equal([task.id]);
  });

  it('when more than 1,000 tasks are sent in one createMany, then VALIDATION_FAILED', async () => {
    const tasks = Array.from({ length: 1001 }, () => ({ type: 'test.noop' }));
    await rejectsWith(f.client.call('tasks.createMany', { tasks }), 'VALIDATION_FAILED');
  });

  it('when pages are read while tasks are being inserted, then no task present at the start is skipped or repeated', async function () {
    this.timeout(60_000);
    const { tasks: initial } = await f.client.call('tasks.createMany', {
      tasks: Array.from({ length: 120 }, (_, n) => ({ type: 'test.noop', payload: { n } })),
    });
    let inserting = true;
    const inserter = (async () => {
      while (inserting) await f.client.call('tasks.create', { type: 'test.noop', payload: { n: 1000 } });
    })();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await f.client.call('tasks.list', {
        limit: 7,
        type: 'test.noop',
        ...(cursor && { cursor }),
      });
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    inserting = false;
    await inserter;
    expect(new Set(seen).size, 'no repeats').to.equal(seen.length);
    const seenSet = new Set(seen);
    expect(
      initial.filter((t) => !seenSet.has(t.id)),
      'no skips',
    ).to.have.length(0);
  });

  it('when listing by status, type and creation time, then only matching tasks come back, newest first', async () => {
    const a = (await f.client.call('tasks.create', { type: 'test.noop' })).task;
    await new Promise((r) => setTimeout(r, 15));
    const b = (await f.client.call('tasks.create', { type: 'test.noop' })).task;
    await f.client.call('tasks.cancel', { id: a.id });
    const queued = await f.client.call('tasks.list', { status: 'queued' });
    expect(queued.items.map((t) => t.id)).to.deep.equal([b.id]);
    const all = await f.client.call('tasks.list', {});
    expect(all.items.map((t) => t.id)).to.deep.equal([b.id, a.id]);
    const before = await f.client.call('tasks.list', { createdBefore: b.createdAt });
    expect(before.items.map((t) => t.id)).to.deep.equal([a.id]);
    const after = await f.client.call('tasks.list', { createdAfter: a.createdAt });
    expect(after.items.map((t) => t.id)).to.deep.equal([b.id]);
  });

  it('when tasks finish, then stats count them by status and type and in the last minute', async () => {
    const [a, b] = await Promise.all([
      f.client.call('tasks.create', { type: 'test.noop' }),
      f.client.call('tasks.create', { type: 'test.noop' }),
    ]);
    const ra = await f.client.call('tasks.claim', { id: a.task.id, workerId: 'w', leaseMs: 5_000 });
    await f.client.call('tasks.complete', { id: a.task.id, leaseId: ra.leaseId! });
    await f.client.call('tasks.cancel', { id: b.task.id });
    const s = await f.client.call('tasks.stats', {});
    expect(s.byStatus).to.include({ succeeded: 1, cancelled: 1, queued: 0 });
    expect(s.byType['test.noop']).to.deep.equal({ succeeded: 1, cancelled: 1 });
    expect(s.succeededLastMinute).to.equal(1);
  });

  it('when a queued task is published, then it leaves the unpublished list; once claimed its stale entry is dropped', async () => {
    const { task } = await f.client.call('tasks.create', { type: 'test.noop' });
    const other = (await f.client.call('tasks.create', { type: 'test.noop' })).task;
    expect(
      (await f.client.call('tasks.listUnpublished', { olderThanMs: 0 })).items.map((t) => t.id),
    ).to.have.members([task.id, other.id]);
    expect((await f.client.call('tasks.listUnpublished', { olderThanMs: 60_000 })).items).to.have.length(0);
    const { marked } = await f.client.call('tasks.markPublished', {
      tasks: [{ id: task.id, version: task.version }],
    });
    expect(marked).to.equal(1);
    await f.client.call('tasks.claim', { id: other.id, workerId: 'w', leaseMs: 5_000 });
    expect((await f.client.call('tasks.listUnpublished', { olderThanMs: 0 })).items).to.have.length(0);
    expect(await f.db.collection('task_outbox').countDocuments()).to.equal(0);
  });

  it('when many outbox entries are ahead of their tasks, then they do not hide the real ones behind them', async () => {
    // What a createMany leaves when it fails after writing its outbox entries: entries, no tasks.
    const old = new Date(Date.now() - 60_000);
    await f.db.collection('task_outbox').insertMany(
      Array.from({ length: 7 }, (_, i) => ({
        _id: `ghost-${i}:1`,
        taskId: `ghost-${i}`,
        version: 1,
        at: old,
      })) as never[],
    );
    const real = await Promise.all(
      [1, 2, 3].map(async () => (await f.client.call('tasks.create', { type: 'test.noop' })).task),
    );
    const page = await f.client.call('tasks.listUnpublished', { olderThanMs: 0, limit: 2 });
    expect(page.items.map((t) => t.id))
      .to.have.length(2)
      .and.to.satisfy((ids: string[]) => ids.every((id) => real.some((t) => t.id === id)));
    const all = await f.client.call('tasks.listUnpublished', { olderThanMs: 0, limit: 10 });
    expect(all.items.map((t) => t.id)).to.have.members(real.map((t) => t.id));
    // Still within their grace (they may yet be written), the ghosts stay.
    expect(await f.db.collection('task_outbox').countDocuments({ taskId: /^ghost-/ })).to.equal(7);
  });

  it('when task types are registered again, then the list shows the latest definition', async () => {
    await f.client.call('taskTypes.register', {
      workerId: 'exec-2',
      types: [
        {
          type: 'test.noop',
          kind: 'io',
          payloadSchema: { type: 'object', $id: 'x' },
          timeoutMs: 7,
          maxAttempts: 1,
        },
      ],
    });
    const { items } = await f.client.call('taskTypes.list', {});
    expect(items).to.have.length(1);
    expect(items[0]).to.include({ type: 'test.noop', timeoutMs: 7, registeredBy: 'exec-2' });
    expect(items[0]!.payloadSchema).to.deep.equal({ type: 'object', $id: 'x' });
  });

  it('when executors register the same new types at once, then every registration succeeds and each type is stored once', async () => {
    // Rolling deploys start executors of a new version together: each registration misses the
    // new types, and each upsert tries to insert them. Several rounds, since the race is a race.
    const workers = Array.from({ length: 8 }, (_, i) => `exec-${i}`);
    const refused: string[] = [];
    for (let round = 0; round < 10; round++) {
      const types = Array.from({ length: 3 }, (_, i) => ({
        type: `deploy-${round}.new-${i}`,
        kind: 'io' as const,
        payloadSchema: { type: 'object' },
        timeoutMs: 1_000,
        maxAttempts: 1,
      }));
      const answers = await Promise.allSettled(
        workers.map((workerId) => f.client.call('taskTypes.register', { workerId, types })),
      );
      for (const a of answers) if (a.status === 'rejected') refused.push(String(a.reason));
    }
    expect(refused, 'refused registrations').to.deep.equal([]);
    const { items } = await f.client.call('taskTypes.list', {});
    const stored = items.filter((t) => t.type.startsWith('deploy-'));
    expect(stored, 'types stored').to.have.length(30);
    expect(new Set(stored.map((t) => t.type)).size, 'distinct types stored').to.equal(30);
    for (const t of stored) expect(workers).to.include(t.registeredBy);
  });

  it('when a type schema is not valid JSON Schema, then registration is refused', async () => {
    await rejectsWith(
      f.client.call('taskTypes.register', {
        workerId: 'w',
        types: [
          { type: 'bad', kind: 'io', payloadSchema: { type: 'no-such-type' }, timeoutMs: 1, maxAttempts: 1 },
        ],
      }),
      'VALIDATION_FAILED',
    );
  });
});
