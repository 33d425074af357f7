import { expect } from 'chai';
import { TaskStoreClient, type Task } from '@tasks/contracts';
import { createLogger } from '../../src/logger.js';
import { PublishedMarks } from '../../src/published-marks.js';
import { startGatewayFixture, type GatewayFixture } from '@tasks/testkit';

/** How many tasks.markPublished calls the store has answered, by outcome. */
async function markCalls(storeUrl: string): Promise<number> {
  const text = await (await fetch(storeUrl.replace(/\/rpc$/, '/metrics'))).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('task_store_rpc_calls_total{') && l.includes('method="tasks.markPublished"'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('published marks (integration)', () => {
  let f: GatewayFixture;
  before(async () => (f = await startGatewayFixture({ DISPATCHER: 'off' })));
  after(() => f.close());

  const createTasks = async (n: number): Promise<Task[]> =>
    (
      await f.store.call('tasks.createMany', {
        tasks: Array.from({ length: n }, () => ({ type: 'test.sleep', payload: { ms: 1 } })),
      })
    ).tasks;
  const unpublished = async (): Promise<string[]> =>
    (await f.store.call('tasks.listUnpublished', { olderThanMs: 0, limit: 1000 })).items.map((t) => t.id);

  it('when marks arrive while one call is in flight, then they go out together in the next call', async () => {
    const tasks = await createTasks(5);
    const marks = new PublishedMarks(f.store, createLogger('silent'));
    const before = await markCalls(f.storeService.url);
    for (const t of tasks) marks.add([{ id: t.id, version: t.version }]);
    await marks.flush();
    expect(await markCalls(f.storeService.url)).to.equal(before + 2); // [first], [the other four]
    const left = await unpublished();
    for (const t of tasks) expect(left).not.to.include(t.id);
  });

  it('when the store refuses a mark, then flush still ends and the tasks stay for the dispatcher', async () => {
    const tasks = await createTasks(2);
    const unreachable = new TaskStoreClient({ url: 'http://127.0.0.1:9/rpc', retries: 0, timeoutMs: 1_000 });
    const marks = new PublishedMarks(unreachable, createLogger('silent'));
    marks.add(tasks.map((t) => ({ id: t.id, version: t.version })));
    await marks.flush();
    const left = await unpublished();
    for (const t of tasks) expect(left).to.include(t.id);
  });
});
