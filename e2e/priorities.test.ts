/**
 * Priorities across the whole system: tasks of one type submitted over REST while no executor
 * serves the type wait in their bands; one executor that runs one io task at a time then starts
 * them highest priority first, in submission order among equals (docs/priorities.md). The order
 * is read from the store's startedAt.
 */
import { expect } from 'chai';
import { api, startSystem, waitForStatus, type RunningSystem } from '@tasks/testkit';

const PRIORITIES = [0, 2, 9, 0, 9, 5, 2, 9, 0, 5];

interface Started {
  id: string;
  priority: number;
  startedAt: string;
}

describe('priorities (e2e: store, gateway, executor as processes)', function () {
  this.timeout(120_000);
  let sys: RunningSystem;

  before(async () => {
    sys = await startSystem({ executors: 1 }); // registers the built-in types
    sys.children.get('executor-1')!.kill('SIGTERM');
    expect(await sys.exited('executor-1')).to.equal(0);
  });

  after(async () => {
    await sys.stop();
  });

  it('when tasks of mixed priorities wait for an executor of their type, then it starts them highest priority first, FIFO among equals', async () => {
    const submitted: string[] = [];
    for (const priority of PRIORITIES) {
      const r = await api(sys.gatewayUrl, '/v1/tasks', {
        method: 'POST',
        json: { type: 'sleep', payload: { ms: 50 }, priority },
      });
      expect(r.status).to.equal(201);
      submitted.push((r.body as { id: string }).id);
    }
    const refused = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: { type: 'sleep', payload: { ms: 50 }, priority: 10 },
    });
    expect(refused.status).to.equal(400);

    await sys.addExecutor({ IO_CONCURRENCY: '1' });
    const done: Started[] = [];
    for (const id of submitted)
      done.push((await waitForStatus(sys.gatewayUrl, id, ['succeeded'])) as Started);

    const started = [...done].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    const expected = submitted
      .map((id, i) => ({ id, priority: PRIORITIES[i]!, i }))
      .sort((a, b) => b.priority - a.priority || a.i - b.i);
    expect(started.map((t) => t.priority)).to.deep.equal(expected.map((t) => t.priority));
    expect(started.map((t) => t.id)).to.deep.equal(expected.map((t) => t.id));
  });
});
