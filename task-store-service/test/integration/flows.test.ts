import { expect } from 'chai';
import type { CreateFlowParams, Flow, Task } from '@tasks/contracts';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

describe('flows (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const node = (key: string, dependsOn: string[] = [], n = 1) => ({
    key,
    type: 'test.noop',
    payload: { n },
    dependsOn,
  });
  const create = async (p: CreateFlowParams) => f.client.call('flows.create', p);
  const taskOf = (flow: Flow, key: string) => flow.nodes.find((n) => n.key === key)!.taskId;
  const get = (id: string) => f.client.call('tasks.get', { id });
  /** Claims and completes (or fails for good) one node; returns what the outcome queued. */
  const finish = async (id: string, outcome: 'succeed' | 'fail', result: unknown = null) => {
    const t = await f.client.call('tasks.claim', { id, workerId: 'w1', leaseMs: 30_000 });
    return outcome === 'succeed'
      ? f.client.call('tasks.complete', { id, leaseId: t.leaseId!, result })
      : f.client.call('tasks.fail', {
          id,
          leaseId: t.leaseId!,
          error: { code: 'BOOM', message: 'boom', retryable: false },
        });
  };

  it('when a flow is created, then roots are queued, the others wait, and every node names its flow', async () => {
    const { flow, created, queued } = await create({
      name: 'diamond',
      nodes: [node('a'), node('b', ['a']), node('c', ['a']), node('d', ['b', 'c'])],
    });
    expect(created).to.equal(true);
    expect(flow).to.include({ name: 'diamond', status: 'running', failurePolicy: 'fail-fast' });
    expect(flow.nodes.map((n) => [n.key, n.status])).to.deep.equal([
      ['a', 'queued'],
      ['b', 'waiting'],
      ['c', 'waiting'],
      ['d', 'waiting'],
    ]);
    expect(queued.map((t) => t.id)).to.deep.equal([taskOf(flow, 'a')]);
    const d = await get(taskOf(flow, 'd'));
    expect(d).to.include({ status: 'waiting', flowId: flow.id, flowKey: 'd' });
    await rejectsWith(
      f.client.call('tasks.claim', { id: d.id, workerId: 'w', leaseMs: 5_000 }),
      'INVALID_TRANSITION',
    );
  });

  it('when the dependencies succeed, then the dependent is queued once with their results by key', async () => {
    const { flow } = await create({ nodes: [node('a'), node('b'), node('sum', ['a', 'b'])] });
    const first = await finish(taskOf(flow, 'a'), 'succeed', { count: 3 });
    expect(first.dependents ?? []).to.deep.equal([]);
    const second = await finish(taskOf(flow, 'b'), 'succeed', { count: 4 });
    expect(second.dependents?.map((t) => [t.id, t.status])).to.deep.equal([[taskOf(flow, 'sum'), 'queued']]);
    const sum: Task = await get(taskOf(flow, 'sum'));
    expect(sum.status).to.equal('queued');
    expect(sum.dependencyResults).to.deep.equal({
      a: { taskId: taskOf(flow, 'a'), status: 'succeeded', result: { count: 3 }, error: null },
      b: { taskId: taskOf(flow, 'b'), status: 'succeeded', result: { count: 4 }, error: null },
    });
    await finish(sum.id, 'succeed', 7);
    const done = await f.client.call('flows.get', { id: flow.id });
    expect(done.status).to.equal('succeeded');
    expect(done.nodes.find((n) => n.key === 'sum')!.result).to.equal(7);
  });

  it('when a dependency fails under fail-fast, then its dependents are cancelled DEPENDENCY_FAILED, and retrying it resumes the flow', async () => {
    const { flow } = await create({ nodes: [node('a'), node('b', ['a']), node('c', ['b'])] });
    const failed = await finish(taskOf(flow, 'a'), 'fail');
    // The answer names the nodes it moved, so that the caller announces them.
    expect(failed.dependents?.map((t) => [t.flowKey, t.status])).to.deep.equal([
      ['b', 'cancelled'],
      ['c', 'cancelled'],
    ]);
    for (const key of ['b', 'c']) {
      const t = await get(taskOf(flow, key));
      expect(t.status, key).to.equal('cancelled');
      expect(t.error?.code, key).to.equal('DEPENDENCY_FAILED');
    }
    expect((await f.client.call('flows.get', { id: flow.id })).status).to.equal('failed');
    await rejectsWith(f.client.call('tasks.retry', { id: taskOf(flow, 'b') }), 'INVALID_TRANSITION');

    await f.client.call('tasks.retry', { id: taskOf(flow, 'a') });
    expect((await get(taskOf(flow, 'b'))).status).to.equal('waiting');
    expect((await get(taskOf(flow, 'c'))).status).to.equal('waiting');
    expect((await f.client.call('flows.get', { id: flow.id })).status).to.equal('running');
    await finish(taskOf(flow, 'a'), 'succeed');
    await finish(taskOf(flow, 'b'), 'succeed');
    await finish(taskOf(flow, 'c'), 'succeed');
    expect((await f.client.call('flows.get', { id: flow.id })).status).to.equal('succeeded');
  });

  it('when a dependency fails under continue, then the dependent runs and sees the failure', async () => {
    const { flow } = await create({
      failurePolicy: 'continue',
      nodes: [node('a'), node('b'), node('c', ['a', 'b'])],
    });
    await finish(taskOf(flow, 'a'), 'fail');
    await finish(taskOf(flow, 'b'), 'succeed', 'ok');
    const c = await get(taskOf(flow, 'c'));
    expect(c.status).to.equal('queued');
    expect(c.dependencyResults!.a).to.deep.include({ status: 'failed', result: null });
    expect(c.dependencyResults!.a!.error).to.include({ code: 'BOOM' });
    expect(c.dependencyResults!.b).to.deep.include({ status: 'succeeded', result: 'ok' });
  });

  it("when the dependencies' results together pass 4 MiB, then the node is cancelled and its document stays small", async () => {
    const { flow } = await create({
      nodes: [...['a', 'b', 'c', 'd', 'e'].map((k) => node(k)), node('all', ['a', 'b', 'c', 'd', 'e'])],
    });
    for (const k of ['a', 'b', 'c', 'd', 'e']) await finish(taskOf(flow, k), 'succeed', 'x'.repeat(900_000));
    const all = await get(taskOf(flow, 'all'));
    expect(all.status).to.equal('cancelled');
    expect(all.error?.code).to.equal('DEPENDENCY_FAILED');
    expect(all.error?.message).to.match(/results take 4500010 bytes/);
    const raw = await f.db.collection('tasks').findOne({ _id: taskOf(flow, 'all') as never });
    expect(JSON.stringify(raw).length, 'results are counted, not copied').to.be.below(10_000);
  });

  it('when a flow is cancelled, then every unfinished node is cancelled and a repeat changes nothing', async () => {
    const { flow } = await create({ nodes: [node('a'), node('b', ['a']), node('x')] });
    await finish(taskOf(flow, 'x'), 'succeed');
    const first = await f.client.call('flows.cancel', { id: flow.id, by: 'test' });
    expect(first.flow.status).to.equal('cancelled');
    expect(first.cancelled.map((t) => t.id).sort()).to.deep.equal(
      [taskOf(flow, 'a'), taskOf(flow, 'b')].sort(),
    );
    expect(first.flow.nodes.map((n) => n.status)).to.deep.equal(['cancelled', 'cancelled', 'succeeded']);
    const again = await f.client.call('flows.cancel', { id: flow.id });
    expect(again.cancelled).to.deep.equal([]);
    expect(again.flow.status).to.equal('cancelled');
  });

  it('when a node of a cancelled flow is retried, then it is told how its dependencies stand now', async () => {
    for (const policy of ['continue', 'fail-fast'] as const) {
      const { flow } = await create({ failurePolicy: policy, nodes: [node('a'), node('b', ['a'])] });
      await f.client.call('flows.cancel', { id: flow.id });
      // b was cancelled first, so it never heard that a was cancelled after it.
      const b = await f.client.call('tasks.retry', { id: taskOf(flow, 'b') });
      if (policy === 'continue') {
        expect(b.status, policy).to.equal('queued');
        expect(b.dependencyResults?.a?.status, policy).to.equal('cancelled');
      } else {
        expect(b.status, policy).to.equal('cancelled');
        expect(b.error?.code, policy).to.equal('DEPENDENCY_FAILED');
      }
    }
  });

  it('when a flow has succeeded, then cancelling it is a conflict that changes nothing', async () => {
    const { flow } = await create({ nodes: [node('a')] });
    await finish(taskOf(flow, 'a'), 'succeed');
    const err = await rejectsWith(f.client.call('flows.cancel', { id: flow.id }), 'INVALID_TRANSITION');
    expect(err.data?.status).to.equal('succeeded');
    const after = await f.client.call('flows.get', { id: flow.id });
    expect(after).to.include({ status: 'succeeded', cancelledAt: null });
  });

  it('when the graph is invalid, then VALIDATION_FAILED names the place and nothing is written', async () => {
    const cycle = await rejectsWith(
      create({ nodes: [node('a', ['c']), node('b', ['a']), node('c', ['b'])] }),
      'VALIDATION_FAILED',
    );
    expect(JSON.stringify(cycle.data)).to.match(/cycle/);
    const unknown = await rejectsWith(create({ nodes: [node('a', ['zz'])] }), 'VALIDATION_FAILED');
    expect(JSON.stringify(unknown.data)).to.include('/nodes/0/dependsOn/0');
    await rejectsWith(create({ nodes: [node('a'), node('a')] }), 'VALIDATION_FAILED');
    await rejectsWith(
      create({ nodes: [node('a'), { key: 'b', type: 'test.noop', payload: { n: -1 } }] }),
      'PAYLOAD_INVALID',
    );
    expect(await f.db.collection('tasks').countDocuments({})).to.equal(0);
    expect(await f.db.collection('flows').countDocuments({})).to.equal(0);
  });

  it('when a flow is created twice with one idempotency key, then the second answers the first', async () => {
    const p = { idempotencyKey: 'k1', nodes: [node('a'), node('b', ['a'])] };
    const first = await create(p);
    const second = await create(p);
    expect(second.created).to.equal(false);
    expect(second.flow.id).to.equal(first.flow.id);
    await rejectsWith(create({ ...p, name: 'other' }), 'IDEMPOTENCY_CONFLICT');
  });

  it('when flows are listed, then newest first with node counts, paged by cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create({ nodes: [node('a'), node('b', ['a'])] })).flow.id);
    const p1 = await f.client.call('flows.list', { limit: 2 });
    expect(p1.items.map((x) => x.id)).to.deep.equal([ids[2], ids[1]]);
    expect(p1.items[0]).to.include({ nodeCount: 2, status: 'running' });
    expect(p1.items[0]!.byStatus).to.deep.equal({ queued: 1, waiting: 1 });
    const p2 = await f.client.call('flows.list', { limit: 2, cursor: p1.nextCursor! });
    expect(p2.items.map((x) => x.id)).to.deep.equal([ids[0]]);
    expect(p2.nextCursor).to.equal(null);
  });
});

describe('flow keeper (integration): finishing what a crash left half done', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const node = (key: string, dependsOn: string[] = []) => ({
    key,
    type: 'test.noop',
    payload: { n: 1 },
    dependsOn,
  });
  const until = async (what: string, check: () => Promise<boolean>, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) expect.fail(`${what} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const tasks = () => f.db.collection<{ _id: string; status: string; version: number }>('tasks');
  const wakeups = () => f.db.collection<{ _id: string; kind: string; ref: string; at: Date }>('flow_wakeups');
  const flows = () => f.db.collection<{ _id: string; state: string }>('flows');

  it('when a store stopped after a dependency ended but before telling its dependent, then the keeper tells it', async () => {
    const { flow } = await f.client.call('flows.create', { nodes: [node('a'), node('b', ['a'])] });
    const [a, b] = flow.nodes.map((n) => n.taskId) as [string, string];
    const claimed = await f.client.call('tasks.claim', { id: a, workerId: 'w', leaseMs: 30_000 });
    // What the store had written when it stopped: a's outcome and the wakeup before it, no tell.
    await wakeups().insertOne({
      _id: `${a}:${claimed.version + 1}`,
      kind: 'dependents',
      ref: a,
      at: new Date(Date.now() - 10_000),
    });
    await tasks().updateOne(
      { _id: a },
      {
        $set: {
          status: 'succeeded',
          resultJson: '{"x":1}',
          finishedAt: new Date(),
          version: claimed.version + 1,
        },
      },
    );
    expect((await f.client.call('tasks.get', { id: b })).status).to.equal('waiting');
    await until('b is queued', async () => (await f.client.call('tasks.get', { id: b })).status === 'queued');
    expect((await f.client.call('tasks.get', { id: b })).dependencyResults?.a?.result).to.deep.equal({
      x: 1,
    });
    await until('the wakeup is gone', async () => (await wakeups().countDocuments({})) === 0);
  });

  it('when a store stopped after a retry left a node waiting but before telling it, then the keeper tells it', async () => {
    const { flow } = await f.client.call('flows.create', { nodes: [node('a'), node('b', ['a'])] });
    const [a, b] = flow.nodes.map((n) => n.taskId) as [string, string];
    // b was retried after its flow was cancelled; a ended meanwhile; the store stopped before the retell.
    await tasks().updateOne(
      { _id: a },
      { $set: { status: 'succeeded', resultJson: '7' }, $inc: { version: 5 } },
    );
    await tasks().updateOne(
      { _id: b },
      { $set: { status: 'waiting', 'flow.told': [] }, $inc: { version: 5 } },
    );
    const version = (await tasks().findOne({ _id: b }))!.version;
    await wakeups().insertOne({
      _id: `retell:${b}:${version}`,
      kind: 'retell',
      ref: b,
      at: new Date(Date.now() - 10_000),
    });
    await until('b is queued', async () => (await f.client.call('tasks.get', { id: b })).status === 'queued');
    expect((await f.client.call('tasks.get', { id: b })).dependencyResults?.a?.result).to.equal(7);
    await until('the wakeup is gone', async () => (await wakeups().countDocuments({})) === 0);
  });

  it('when a store stopped part way through cancelling a flow, then the keeper cancels the rest', async () => {
    const { flow } = await f.client.call('flows.create', { nodes: [node('a'), node('b', ['a'])] });
    // What the store had written when it stopped: the wakeup and cancelledAt, no node cancelled.
    await wakeups().insertOne({
      _id: `cancel:${flow.id}`,
      kind: 'cancel',
      ref: flow.id,
      at: new Date(Date.now() - 10_000),
    });
    await flows().updateOne({ _id: flow.id }, { $set: { cancelledAt: new Date() } });
    await until(
      'the flow is cancelled',
      async () => (await f.client.call('flows.get', { id: flow.id })).status === 'cancelled',
    );
    const nodes = (await f.client.call('flows.get', { id: flow.id })).nodes;
    expect(nodes.map((n) => [n.key, n.status, n.error?.code])).to.deep.equal([
      ['a', 'cancelled', 'CANCELLED'],
      ['b', 'cancelled', 'CANCELLED'],
    ]);
    await until('the wakeup is gone', async () => (await wakeups().countDocuments({})) === 0);
  });

  it('when a flow creation stopped after every node was written, then the keeper finishes it', async () => {
    const { flow } = await f.client.call('flows.create', { nodes: [node('a'), node('b', ['a'])] });
    const a = flow.nodes[0]!.taskId;
    // As if the call had stopped before its commit: the flow still creating, the root not queued.
    await flows().updateOne({ _id: flow.id }, { $set: { state: 'creating' } });
    await tasks().updateOne({ _id: a }, { $set: { status: 'waiting' }, $inc: { version: 1 } });
    await wakeups().insertOne({
      _id: `flow:${flow.id}`,
      kind: 'flow',
      ref: flow.id,
      at: new Date(Date.now() - 120_000),
    });
    await rejectsWith(f.client.call('flows.get', { id: flow.id }), 'FLOW_NOT_FOUND');
    await until('the flow is readable', () =>
      f.client.call('flows.get', { id: flow.id }).then(
        () => true,
        () => false,
      ),
    );
    // The keeper marks the flow created, then queues its roots, then removes the wakeup: once the
    // wakeup is gone the finish is complete (the flow is readable a moment before its root is queued).
    await until('the keeper removed the wakeup', async () => (await wakeups().countDocuments({})) === 0);
    expect((await f.client.call('tasks.get', { id: a })).status).to.equal('queued');
  });

  it('when a flow creation stopped with a node missing, then the keeper removes what was written', async () => {
    const { flow } = await f.client.call('flows.create', { nodes: [node('a'), node('b', ['a'])] });
    const [a, b] = flow.nodes.map((n) => n.taskId) as [string, string];
    await flows().updateOne({ _id: flow.id }, { $set: { state: 'creating' } });
    await tasks().updateOne({ _id: a }, { $set: { status: 'waiting' }, $inc: { version: 1 } });
    await tasks().deleteOne({ _id: b });
    await wakeups().insertOne({
      _id: `flow:${flow.id}`,
      kind: 'flow',
      ref: flow.id,
      at: new Date(Date.now() - 120_000),
    });
    await until('the flow is gone', async () => (await flows().countDocuments({ _id: flow.id })) === 0);
    expect(await tasks().countDocuments({ flowId: flow.id })).to.equal(0);
    expect(await wakeups().countDocuments({})).to.equal(0);
  });
});
