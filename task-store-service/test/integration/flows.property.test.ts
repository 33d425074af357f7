/**
 * Property-based tests of flows through two real stores on one database: random DAGs, random
 * outcomes, and random completion orders in which several dependencies end at the same moment
 * (each through either store) and outcomes are sent twice. Whatever the order, every node ends as
 * a small model says, runs at most once, and receives exactly its dependencies' outcomes.
 *
 * Runs: FC_RUNS overrides numRuns; FC_SEED / FC_PATH replay a failure (see transitions.property).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { FailurePolicy, Task, TaskStoreClient } from '@tasks/contracts';
import { runParams } from '../support/fast-check-params.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

interface Case {
  /** deps[i]: indices (all < i) node i depends on: acyclic by construction. */
  deps: number[][];
  succeeds: boolean[];
  policy: FailurePolicy;
  /** Which queued nodes end together in each round (bit per node), and whether outcomes are sent twice. */
  picks: number[];
  replay: boolean;
}

const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 2, max: 9 }).chain((n) =>
  fc.record({
    deps: fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.subarray(
          Array.from({ length: i }, (_, j) => j),
          { maxLength: Math.min(3, i) },
        ),
      ),
    ),
    succeeds: fc.array(
      fc.integer({ min: 0, max: 9 }).map((x) => x < 7),
      { minLength: n, maxLength: n },
    ),
    policy: fc.constantFrom<FailurePolicy>('fail-fast', 'continue'),
    picks: fc.array(fc.integer({ min: 1, max: 2 ** n - 1 }), { minLength: n + 1, maxLength: n + 1 }),
    replay: fc.boolean(),
  }),
);

const key = (i: number) => `n${i}`;

/** What the model says each node ends as. */
function expected(c: Case): ('succeeded' | 'failed' | 'cancelled')[] {
  const out: ('succeeded' | 'failed' | 'cancelled')[] = [];
  c.deps.forEach((deps, i) => {
    const runs = c.policy === 'continue' || deps.every((d) => out[d] === 'succeeded');
    out.push(!runs ? 'cancelled' : c.succeeds[i] ? 'succeeded' : 'failed');
  });
  return out;
}

describe('flows (property, two stores on one database)', function () {
  this.timeout(300_000);
  let a: StoreFixture;
  let b: StoreFixture;
  before(async () => {
    a = await startStore();
    b = await startStore({}, { dbName: a.db.databaseName });
  });
  after(async () => {
    await b.stop();
    await a.close();
  });

  async function runCase(c: Case): Promise<void> {
    const stores: TaskStoreClient[] = [a.client, b.client];
    const { flow } = await a.client.call('flows.create', {
      failurePolicy: c.policy,
      nodes: c.deps.map((deps, i) => ({
        key: key(i),
        type: 'test.noop',
        payload: { n: i },
        maxAttempts: 1,
        dependsOn: deps.map(key),
      })),
    });
    const ids = flow.nodes.map((n) => n.taskId);
    for (let round = 0; ; round++) {
      const tasks = await Promise.all(ids.map((id) => a.client.call('tasks.get', { id })));
      const queued = tasks.flatMap((t, i) => (t.status === 'queued' ? [i] : []));
      if (queued.length === 0) break;
      expect(round, 'every round ends at least one node').to.be.below(c.deps.length + 1);
      const pick = c.picks[round % c.picks.length]!;
      let batch = queued.filter((i) => (pick >> i) & 1);
      if (batch.length === 0) batch = [queued[0]!];
      const claimed = await Promise.all(
        batch.map((i) =>
          stores[i % 2]!.call('tasks.claim', { id: ids[i]!, workerId: `w${i}`, leaseMs: 60_000 }),
        ),
      );
      // Their outcomes arrive at the same moment, through both stores, and again when replayed.
      const finish = (i: number, t: Task, via: number) =>
        c.succeeds[i]
          ? stores[via]!.call('tasks.complete', { id: t.id, leaseId: t.leaseId!, result: { from: key(i) } })
          : stores[via]!.call('tasks.fail', {
              id: t.id,
              leaseId: t.leaseId!,
              error: { code: 'NOPE', message: `${key(i)} failed`, retryable: false },
            });
      await Promise.all(batch.map((i, j) => finish(i, claimed[j]!, (i + round) % 2)));
      if (c.replay) await Promise.all(batch.map((i, j) => finish(i, claimed[j]!, (i + round + 1) % 2)));
    }

    const want = expected(c);
    const done = await Promise.all(ids.map((id) => b.client.call('tasks.get', { id })));
    done.forEach((t, i) => {
      const what = `${key(i)} (deps ${c.deps[i]!.map(key).join(',') || '-'}, ${c.policy})`;
      expect(t.status, what).to.equal(want[i]);
      const runs = t.history.filter((h) => h.status === 'running');
      expect(runs.length, `${what} runs at most once`).to.equal(want[i] === 'cancelled' ? 0 : 1);
      if (want[i] === 'cancelled') {
        expect(t.error?.code, what).to.equal('DEPENDENCY_FAILED');
        return;
      }
      const results = Object.fromEntries(
        c.deps[i]!.map((d) => [
          key(d),
          {
            taskId: ids[d],
            status: want[d],
            result: want[d] === 'succeeded' ? { from: key(d) } : null,
            code: want[d] === 'succeeded' ? null : (done[d]!.error?.code ?? null),
          },
        ]),
      );
      const got = Object.fromEntries(
        Object.entries(t.dependencyResults ?? {}).map(([k, r]) => [
          k,
          { taskId: r.taskId, status: r.status, result: r.result, code: r.error?.code ?? null },
        ]),
      );
      expect(got, `${what} receives its dependencies' outcomes`).to.deep.equal(results);
      // It started only once every dependency had ended.
      for (const d of c.deps[i]!) {
        expect(Date.parse(runs[0]!.at), `${what} after ${key(d)}`).to.be.at.least(
          Date.parse(done[d]!.finishedAt!),
        );
      }
    });
    const status = (await a.client.call('flows.get', { id: flow.id })).status;
    expect(status).to.equal(want.every((s) => s === 'succeeded') ? 'succeeded' : 'failed');
    expect(await a.db.collection('flow_wakeups').countDocuments({}), 'no telling left undone').to.equal(0);
  }

  it('when random DAGs end in random orders, with simultaneous and repeated outcomes, then every node ends as the model says, once', async () => {
    await fc.assert(fc.asyncProperty(caseArb, runCase), runParams(25));
  });
});
