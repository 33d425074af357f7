/**
 * What flows cost the store, per node, next to a plain task doing the same work: JSON-RPC calls
 * and database operations for create → claim → complete of every node, for plain tasks, chains,
 * fan-ins collected by one node, and diamonds (cost-harness.ts says how they are counted). The
 * table goes to stdout; docs/flows.md holds the last one.
 *
 *   npx tsx --conditions=source bench/store/flow-costs.ts [--nodes=200]
 */
import type { FlowNodeSpec } from '@tasks/contracts';
import { costTable, withCostHarness } from './cost-harness.js';
import { BENCH_TYPE } from './throughput.js';

const NODES = Number(/^--nodes=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 200);

/** One flow's nodes for each shape; `size` nodes per flow. */
const SHAPES: Record<string, { size: number; nodes: () => FlowNodeSpec[] }> = {
  'chain of 4': {
    size: 4,
    nodes: () => ['a', 'b', 'c', 'd'].map((key, i, all) => node(key, i === 0 ? [] : [all[i - 1]!])),
  },
  'fan-in: 4 → 1': {
    size: 5,
    nodes: () => [...['a', 'b', 'c', 'd'].map((k) => node(k)), node('all', ['a', 'b', 'c', 'd'])],
  },
  'diamond (a → b, c → d)': {
    size: 4,
    nodes: () => [node('a'), node('b', ['a']), node('c', ['a']), node('d', ['b', 'c'])],
  },
};

function node(key: string, dependsOn: string[] = []): FlowNodeSpec {
  return { key, type: BENCH_TYPE.type, payload: {}, dependsOn };
}

await withCostHarness('flow_costs', async ({ call, measure, rows }) => {
  const run = async (id: string) => {
    const t = await call('tasks.claim', { id, workerId: 'bench', leaseMs: 60_000 });
    return call('tasks.complete', { id, leaseId: t.leaseId!, result: { id } });
  };
  await measure('plain tasks (no flow)', async () => {
    for (let i = 0; i < NODES; i++) {
      const { task } = await call('tasks.create', { type: BENCH_TYPE.type, payload: {} });
      await run(task.id);
    }
    return NODES;
  });
  for (const [shape, { size, nodes }] of Object.entries(SHAPES)) {
    await measure(shape, async () => {
      const flows = Math.max(1, Math.round(NODES / size));
      for (let i = 0; i < flows; i++) {
        const { queued } = await call('flows.create', { nodes: nodes() });
        // Run what is due, then what that made due, until the flow has ended.
        let due = queued.map((t) => t.id);
        while (due.length > 0) {
          const next: string[] = [];
          for (const id of due) {
            const moved = (await run(id)).dependents ?? [];
            next.push(...moved.filter((t) => t.status === 'queued').map((t) => t.id));
          }
          due = next;
        }
      }
      return flows * size;
    });
  }
  console.log(costTable(rows, 'shape'));
});
