import { expect } from 'chai';
import { TaskStoreClient, type TaskSummary } from '@tasks/contracts';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { scenario, sleep, until } from '../support/scenario.js';

/** Every task, page by page at `limit`, with the page's filter. */
async function listAll(store: TaskStoreClient, limit: number, type?: string): Promise<TaskSummary[]> {
  const items: TaskSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.call('tasks.list', { limit, ...(type && { type }), ...(cursor && { cursor }) });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

const newestFirst = (a: TaskSummary, b: TaskSummary) =>
  Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

describe('fault 24: list slots after a store is killed mid-batch', () => {
  scenario(
    'two stores create batches into the same buckets; one SIGKILLed mid-batch and restarted: every task listed once, in order',
    {
      load: '1,200 mixed cpu/io tasks in batches of 150, half through each of 2 gateway/store pairs, 2 executors',
      fault: 'SIGKILL store-2 after 300 accepted (a batch in flight); restart it after 1 s',
    },
    { replicas: 2 },
    async ({ sys, node, load, runLog }) => {
      const sending = Promise.all([
        submit(sys.gatewayUrl, 600, load, { runLog, batchSize: 150 }),
        submit(sys.gatewayUrls[1]!, 600, load, { runLog, batchSize: 150, timeoutMs: 10_000 }),
      ]);
      await until('300 accepted', () => load.accepted.length >= 300, 120_000);
      sys.children.get('store-2')!.kill('SIGKILL');
      await sys.exited('store-2');
      await sleep(1_000);
      await sys.restart('store-2');
      await sending;
      // A batch cut off by the kill may have created all its tasks, unanswered.
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog, {
        tasksPerUnknownRequest: 150,
      });

      const first = new TaskStoreClient({ url: sys.storeUrl, timeoutMs: 30_000 });
      const restarted = new TaskStoreClient({ url: sys.storeUrls[1]!, timeoutMs: 30_000 });
      const all = await listAll(first, 37);
      const ids = all.map((t) => t.id);
      expect(new Set(ids).size, 'a task listed twice').to.equal(ids.length);
      expect(ids, 'pages in list order').to.deep.equal([...all].sort(newestFirst).map((t) => t.id));
      const listed = new Set(ids);
      expect(
        load.accepted.filter((id) => !listed.has(id)),
        'accepted tasks not listed',
      ).to.deep.equal([]);
      // The restarted store (a new chain of slots) pages the same way, and a filter agrees.
      expect(
        (await listAll(restarted, 200)).map((t) => t.id),
        'pages of the restarted store',
      ).to.deep.equal(ids);
      const cpu = (await listAll(restarted, 50, 'primes.count')).map((t) => t.id);
      expect(cpu, 'a type filter').to.deep.equal(
        all.filter((t) => t.type === 'primes.count').map((t) => t.id),
      );
      const refused = [...load.refused.values()].reduce((a, b) => a + b, 0);
      return `${summary}; ${ids.length} listed once each in order (${refused} requests refused or unanswered during the kill)`;
    },
  );
});
