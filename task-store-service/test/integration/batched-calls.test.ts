/**
 * Claims and outcomes sent together in one JSON-RPC batch (as executors send them): each call
 * gets its own answer, the store ends as if the calls had come one by one, and the fences of
 * the batch's calls share insert commands.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { BatchCall, BatchResult, Task } from '@tasks/contracts';
import { startStore, type StoreFixture } from '@tasks/testkit';

/** What a task's outcome is, without ids and clocks. */
function outcome(t: Task) {
  return {
    status: t.status,
    attempts: t.attempts,
    version: t.version,
    leaseOwner: t.leaseOwner,
    result: t.result,
    error: t.error?.code ?? null,
    history: t.history.map((h) => `${h.status}:${h.attempt}`),
  };
}

const answer = (r: BatchResult) => (r.ok ? 'ok' : r.error.type);

describe('claims and outcomes in one JSON-RPC batch (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const createTasks = async (n: number): Promise<Task[]> =>
    (
      await f.client.call('tasks.createMany', {
        tasks: Array.from({ length: n }, () => ({ type: 'test.noop', payload: {} })),
      })
    ).tasks;
  const claim = (id: string, leaseId: string, workerId = 'w1'): BatchCall => ({
    method: 'tasks.claim',
    params: { id, workerId, leaseMs: 30_000, leaseId },
  });
  const fenceInserts = async (): Promise<number> => {
    const text = await (await fetch(new URL('/metrics', f.service.url))).text();
    return text
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('task_store_db_commands_total{') &&
          l.includes('command="insert"') &&
          l.includes('collection="task_fences"'),
      )
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };

  /**
   * Six tasks in known states, then the calls of the scenario: replays, refusals and changes
   * mixed. `send` runs them (as one batch, or one by one) and returns each call's answer.
   */
  async function scenario(send: (calls: BatchCall[]) => Promise<BatchResult[]>) {
    const [a, b, c, d, e, g] = (await createTasks(6)) as [Task, Task, Task, Task, Task, Task];
    const lease = { c: randomUUID(), d: randomUUID(), e: randomUUID(), g: randomUUID() };
    for (const [t, id] of [
      [c, lease.c],
      [d, lease.d],
      [e, lease.e],
      [g, lease.g],
    ] as const)
      await f.client.call('tasks.claim', { id: t.id, workerId: 'w0', leaseMs: 30_000, leaseId: id });
    await f.client.call('tasks.complete', { id: c.id, leaseId: lease.c, result: 'earlier' });
    const leaseA = randomUUID();
    const calls: BatchCall[] = [
      claim(a.id, leaseA), // claim
      claim(a.id, leaseA), // the same claim again (a lost answer repeated): the same lease
      claim(b.id, randomUUID()), // claim
      claim(c.id, randomUUID()), // already succeeded: INVALID_TRANSITION
      claim(`missing-${randomUUID()}`, randomUUID()), // TASK_NOT_FOUND
      { method: 'tasks.complete', params: { id: d.id, leaseId: lease.d, result: 42 } },
      { method: 'tasks.complete', params: { id: d.id, leaseId: lease.d, result: 42 } }, // replay
      {
        method: 'tasks.fail',
        params: { id: e.id, leaseId: lease.e, error: { code: 'BAD', message: 'no', retryable: false } },
      },
      { method: 'tasks.complete', params: { id: g.id, leaseId: randomUUID(), result: 1 } }, // LEASE_LOST
    ];
    const results = await send(calls);
    const finals = await Promise.all(
      [a, b, c, d, e, g].map(async (t) => outcome(await f.client.call('tasks.get', { id: t.id }))),
    );
    const leases = results.slice(0, 2).map((r) => (r.ok ? (r.result as Task).leaseId : null));
    return { answers: results.map(answer), finals, leases, leaseA };
  }

  it('when claims and outcomes with replays and conflicts come in one batch, then each call gets its own answer and the store ends as after the same calls one by one', async () => {
    const batched = await scenario((calls) => f.client.batch(calls));
    const sequential = await scenario(async (calls) => {
      const results: BatchResult[] = [];
      for (const call of calls) results.push(...(await f.client.batch([call])));
      return results;
    });
    expect(batched.answers).to.deep.equal([
      'ok',
      'ok',
      'ok',
      'INVALID_TRANSITION',
      'TASK_NOT_FOUND',
      'ok',
      'ok',
      'ok',
      'LEASE_LOST',
    ]);
    expect(batched.answers).to.deep.equal(sequential.answers);
    expect(batched.leases).to.deep.equal([batched.leaseA, batched.leaseA]);
    expect(batched.finals).to.deep.equal(sequential.finals);
    expect(batched.finals.map((t) => t.status)).to.deep.equal([
      'running',
      'running',
      'succeeded',
      'succeeded',
      'failed',
      'running',
    ]);
  });

  it('when 20 workers claim one task in one batch, then exactly one wins, once', async () => {
    const [t] = (await createTasks(1)) as [Task];
    const results = await f.client.batch(
      Array.from({ length: 20 }, (_, i) => claim(t.id, randomUUID(), `w${i}`)),
    );
    expect(results.filter((r) => r.ok)).to.have.length(1);
    expect(results.filter((r) => !r.ok).map(answer)).to.deep.equal(Array(19).fill('INVALID_TRANSITION'));
    const stored = await f.client.call('tasks.get', { id: t.id });
    expect(stored).to.include({ status: 'running', attempts: 1, version: 2 });
    expect(stored.history.filter((h) => h.status === 'running')).to.have.length(1);
  });

  it('when 50 tasks are claimed in one batch and completed in another, then all succeed and their fences share insert commands', async () => {
    const tasks = await createTasks(50);
    const before = await fenceInserts();
    const claims = await f.client.batch(tasks.map((t) => claim(t.id, randomUUID())));
    expect(claims.map(answer)).to.deep.equal(Array(50).fill('ok'));
    const completes = await f.client.batch(
      claims.map((r, i) => {
        const task = (r as { result: Task }).result;
        return { method: 'tasks.complete', params: { id: task.id, leaseId: task.leaseId!, result: i } };
      }),
    );
    expect(completes.map(answer)).to.deep.equal(Array(50).fill('ok'));
    // 100 fenced changes; one insert command per batch when every call finds its task in memory.
    expect(await fenceInserts()).to.be.below(before + 10);
    for (const [i, t] of tasks.entries()) {
      const stored = await f.client.call('tasks.get', { id: t.id });
      expect(stored).to.include({ status: 'succeeded', result: i, version: 3 });
    }
  });
});
