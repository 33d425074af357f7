/** A task's whole history: kept in blocks beyond the latest entries, paged, crash-safe (docs/history.md). */
import { expect } from 'chai';
import { HISTORY_LIMIT, type HistoryEntry, type Task, type TaskStatus } from '@tasks/contracts';
import { openCollections } from '../../src/store/collections.js';
import type { FenceDoc, TaskDoc } from '../../src/store/documents.js';
import {
  appendHistory,
  deleteHistoryOf,
  encodeHistoryCursor,
  HISTORY_BLOCK,
  type HistoryBlockDoc,
} from '../../src/store/task-history.js';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

describe('task history (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const create = async (): Promise<Task> =>
    (await f.client.call('tasks.create', { type: 'test.noop', payload: { n: 1 } })).task;

  /** One cycle: claimed, failed for good, retried by hand (three entries). */
  async function cycle(id: string, n: number): Promise<void> {
    const leaseId = `lease-${n}`;
    await f.client.call('tasks.claim', { id, workerId: `w${n}`, leaseMs: 30_000, leaseId });
    await f.client.call('tasks.fail', {
      id,
      leaseId,
      error: { code: 'BOOM', message: `failure ${n}`, retryable: false },
    });
    await f.client.call('tasks.retry', { id, by: `op${n}` });
  }

  /** Every entry, page by page. */
  async function readAll(id: string, limit: number): Promise<{ items: HistoryEntry[]; pages: number }> {
    const items: HistoryEntry[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await f.client.call('tasks.history', { id, limit, ...(cursor && { cursor }) });
      expect(page.items.length, 'a page is never empty before the end').to.be.within(1, limit);
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    return { items, pages };
  }

  const blocksOf = (id: string) =>
    f.db.collection<HistoryBlockDoc>('task_history').find({ taskId: id }).sort({ block: 1 }).toArray();

  /** What `cycles` cycles after the creation leave: queued, then (running, failed, queued) each time. */
  function expectCycles(items: HistoryEntry[], cycles: number): void {
    const want: { status: TaskStatus; by: string }[] = [{ status: 'queued', by: 'create' }];
    for (let n = 0; n < cycles; n++)
      want.push(
        { status: 'running', by: `w${n}` },
        { status: 'failed', by: `w${n}` },
        { status: 'queued', by: `op${n}` },
      );
    expect(items.map((h) => ({ status: h.status, by: h.by }))).to.deep.equal(want);
    for (let i = 1; i < items.length; i++)
      expect(Date.parse(items[i]!.at), `entry ${i} in time order`).to.be.at.least(
        Date.parse(items[i - 1]!.at),
      );
    const failures = items.filter((h) => h.status === 'failed').map((h) => h.error?.message);
    expect(failures).to.deep.equal(Array.from({ length: cycles }, (_, n) => `failure ${n}`));
  }

  it('when a task makes far more than HISTORY_LIMIT changes, then every one is kept, in order, and pages cover each once', async () => {
    const t = await create();
    const cycles = 45; // 136 entries: four blocks moved out, the latest 36 in the task
    for (let n = 0; n < cycles; n++) await cycle(t.id, n);
    const total = 1 + 3 * cycles;

    const task = await f.client.call('tasks.get', { id: t.id });
    expect(task.history.length).to.be.within(HISTORY_LIMIT - HISTORY_BLOCK + 1, HISTORY_LIMIT);
    expect(task.historyOffset).to.equal(total - task.history.length);
    expect(task.historyOffset! % HISTORY_BLOCK).to.equal(0);

    const whole = await readAll(t.id, 500);
    expect(whole.pages).to.equal(1);
    expect(whole.items).to.have.length(total);
    expectCycles(whole.items, cycles);
    expect(whole.items.slice(-task.history.length), 'the task carries the latest entries').to.deep.equal(
      task.history,
    );

    for (const limit of [1, 7, 25, 26, 50]) {
      const paged = await readAll(t.id, limit);
      expect(paged.items, `limit ${limit}`).to.deep.equal(whole.items);
      expect(paged.pages, `limit ${limit}`).to.equal(Math.ceil(total / limit));
    }
    // The default page is 50 entries.
    const first = await f.client.call('tasks.history', { id: t.id });
    expect(first.items).to.deep.equal(whole.items.slice(0, 50));
    expect(first.nextCursor).to.equal(encodeHistoryCursor(50));

    const blocks = await blocksOf(t.id);
    expect(blocks.map((b) => b.block)).to.deep.equal([0, 1, 2, 3]);
    expect(task.history).to.have.length(36);
    expect(blocks.every((b) => b.entries.length === HISTORY_BLOCK)).to.equal(true);
  });

  it('when a task stays within HISTORY_LIMIT changes, then nothing is kept outside it and one page is its history', async () => {
    const t = await create();
    for (let n = 0; n < 3; n++) await cycle(t.id, n);
    const task = await f.client.call('tasks.get', { id: t.id });
    expect(task).not.to.have.property('historyOffset');
    const page = await f.client.call('tasks.history', { id: t.id });
    expect(page).to.deep.equal({ items: task.history, nextCursor: null });
    expect(await blocksOf(t.id)).to.deep.equal([]);
    // A list page with history carries no offset either.
    const listed = await f.client.call('tasks.list', { fields: ['history'] });
    expect(listed.items[0]).not.to.have.property('historyOffset');
  });

  it('when limit or cursor is out of range or forged, then VALIDATION_FAILED; an unknown task is TASK_NOT_FOUND', async () => {
    const t = await create();
    for (const limit of [0, 501, 1.5]) {
      const err = await rejectsWith(f.client.call('tasks.history', { id: t.id, limit }), 'VALIDATION_FAILED');
      expect(JSON.stringify(err.data)).to.include('/limit');
    }
    const forged = [
      'x',
      Buffer.from('h-1').toString('base64url'),
      Buffer.from('h01').toString('base64url'),
      Buffer.from('1').toString('base64url'),
      encodeHistoryCursor(2), // beyond the single entry this task has
      `${encodeHistoryCursor(0)}A`,
    ];
    for (const cursor of forged) {
      const err = await rejectsWith(
        f.client.call('tasks.history', { id: t.id, cursor }),
        'VALIDATION_FAILED',
      );
      expect(JSON.stringify(err.data), cursor).to.include('/cursor');
    }
    await rejectsWith(f.client.call('tasks.history', { id: 'no-such-task' }), 'TASK_NOT_FOUND');
    await rejectsWith(
      f.client.call('tasks.history', { id: 'no-such-task', cursor: encodeHistoryCursor(5) }),
      'TASK_NOT_FOUND',
    );
  });

  it('when a block was written but the change that moved it out never landed, then it is not read, and the change made again keeps one copy', async () => {
    const t = await create();
    for (let n = 0; n < 16; n++) await cycle(t.id, n); // 49 entries
    await f.client.call('tasks.claim', { id: t.id, workerId: 'w16', leaseMs: 30_000, leaseId: 'lease-16' });
    const stored = (await f.db.collection<TaskDoc>('tasks').findOne({ _id: t.id }))!;
    expect(stored.history).to.have.length(HISTORY_LIMIT);
    // A writer that died after writing block 0 and before writing the task.
    const early: HistoryBlockDoc = {
      _id: `${t.id}:0`,
      taskId: t.id,
      block: 0,
      entries: stored.history.slice(0, HISTORY_BLOCK),
      at: new Date(),
    };
    await f.db.collection<HistoryBlockDoc>('task_history').insertOne(early);
    const before = await readAll(t.id, 10);
    expect(before.items).to.have.length(HISTORY_LIMIT);
    expect(before.items).to.deep.equal((await f.client.call('tasks.get', { id: t.id })).history);

    // The change is made (again): the block is already there, the task's offset now vouches for it.
    await f.client.call('tasks.fail', {
      id: t.id,
      leaseId: 'lease-16',
      error: { code: 'BOOM', message: 'failure 16', retryable: false },
    });
    await f.client.call('tasks.retry', { id: t.id, by: 'op16' });
    const after = await readAll(t.id, 10);
    expectCycles(after.items, 17);
    expect(await blocksOf(t.id)).to.have.length(1);
  });

  it('when a writer dies after taking the fence of a change that moves history out, then the caller that rolls it forward writes the block', async () => {
    const t = await create();
    for (let n = 0; n < 16; n++) await cycle(t.id, n); // 49 entries
    await f.client.call('tasks.claim', { id: t.id, workerId: 'w16', leaseMs: 30_000, leaseId: 'lease-16' });
    const tasks = f.db.collection<TaskDoc>('tasks');
    const doc = (await tasks.findOne({ _id: t.id }))!;
    // The fence of `fail` (version v → v+1), as its writer took it before dying: no block, no task write.
    const now = new Date();
    const error = { code: 'BOOM', message: 'failure 16', retryable: false };
    const set: Partial<TaskDoc> = {
      status: 'failed',
      error,
      leaseEndedBy: 'fail',
      leaseOwner: null,
      leaseExpiresAt: null,
      finishedAt: now,
      ...appendHistory(doc, { status: 'failed', at: now, by: 'w16', attempt: doc.attempts, error }),
      version: doc.version + 1,
      updatedAt: now,
    };
    expect(set.historyOffset).to.equal(HISTORY_BLOCK);
    await f.db
      .collection<FenceDoc>('task_fences')
      .insertOne({ _id: `${t.id}:${doc.version}`, taskId: t.id, version: doc.version, set, at: now });

    // A cancel finds the fence, waits it out, rolls it forward, and finds the task failed.
    await rejectsWith(f.client.call('tasks.cancel', { id: t.id }), 'INVALID_TRANSITION');
    const task = await f.client.call('tasks.get', { id: t.id });
    expect(task).to.include({ status: 'failed', version: doc.version + 1, historyOffset: HISTORY_BLOCK });
    const all = await readAll(t.id, 500);
    expect(all.items).to.have.length(HISTORY_LIMIT + 1);
    expect(all.items.at(-1)).to.include({ status: 'failed', by: 'w16' });
    expect(all.items.slice(0, 49).map((h) => h.status)).to.deep.equal([
      'queued',
      ...Array.from({ length: 16 }, () => ['running', 'failed', 'queued']).flat(),
    ]);
  });

  it('when deleteHistoryOf is given tasks, then their blocks are gone and other tasks keep theirs', async () => {
    const [a, b] = [await create(), await create()];
    for (let n = 0; n < 17; n++) {
      await cycle(a.id, n);
      await cycle(b.id, n);
    }
    expect(await blocksOf(a.id)).to.have.length(1);
    const collections = openCollections(f.db);
    expect(await deleteHistoryOf(collections, [a.id, 'no-such-task'])).to.equal(1);
    expect(await deleteHistoryOf(collections, [a.id])).to.equal(0);
    expect(await blocksOf(a.id)).to.deep.equal([]);
    expect(await blocksOf(b.id)).to.have.length(1);
  });
});
