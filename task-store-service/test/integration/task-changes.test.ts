import { expect } from 'chai';
import type { Task } from '@tasks/contracts';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

describe('tasks.changes: what a resuming event stream missed (integration)', () => {
  let f: StoreFixture;
  before(async () => (f = await startStore()));
  after(() => f.close());

  const create = async (): Promise<Task> =>
    (await f.client.call('tasks.create', { type: 'test.noop', payload: { n: 1 } })).task;

  it('when tasks changed after an instant, then each comes once at its latest version, oldest change first', async () => {
    const before = await create();
    const since = new Date(Date.parse(before.updatedAt) + 1).toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const a = await create();
    const b = await create();
    await f.client.call('tasks.cancel', { id: a.id });
    const { items, complete } = await f.client.call('tasks.changes', { since });
    expect(complete).to.equal(true);
    expect(items.map((e) => [e.taskId, e.status, e.version])).to.deep.equal([
      [b.id, 'queued', 1],
      [a.id, 'cancelled', 2],
    ]);
    // The status filter applies to the latest status; `seen` drops what the client has.
    const cancelled = await f.client.call('tasks.changes', { since, status: 'cancelled' });
    expect(cancelled.items.map((e) => e.taskId)).to.deep.equal([a.id]);
    const unseen = await f.client.call('tasks.changes', { since, seen: [`${a.id}:2`] });
    expect(unseen.items.map((e) => e.taskId)).to.deep.equal([b.id]);
  });

  it('when more tasks changed than the limit, or since is older than the window, then complete is false', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    await create();
    await create();
    expect(await f.client.call('tasks.changes', { since, limit: 1 })).to.deep.equal({
      items: [],
      complete: false,
    });
    const old = new Date(Date.now() - 11 * 60_000).toISOString();
    expect((await f.client.call('tasks.changes', { since: old })).complete).to.equal(false);
  });

  it('when since is missing or not a date, then VALIDATION_FAILED', async () => {
    await rejectsWith(f.client.call('tasks.changes', { since: 'yesterday' }), 'VALIDATION_FAILED');
    await rejectsWith(
      f.client.call('tasks.changes', {} as unknown as { since: string }),
      'VALIDATION_FAILED',
    );
  });
});
