import { expect } from 'chai';
import type { Schedule, TaskSummary } from '@tasks/contracts';
import { api, startSystem, type RunningSystem } from '@tasks/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('schedules (e2e: two stores and two gateways as processes)', function () {
  this.timeout(120_000);
  let sys: RunningSystem;

  before(async () => (sys = await startSystem({ replicas: 2 })));

  after(async () => {
    const codes = await sys.stop();
    expect(codes, 'every service exits 0 on SIGTERM').to.deep.equal(
      Object.fromEntries(Object.keys(codes).map((k) => [k, 0])),
    );
  });

  /** SIGTERM, then the same process again; the other replica goes on meanwhile. */
  const restart = async (name: string) => {
    sys.children.get(name)!.kill('SIGTERM');
    expect(await sys.exited(name)).to.equal(0);
    await sys.restart(name);
  };

  it('when a seconds cron runs through a restart of a store and of a gateway, then each tick creates exactly one task, which runs', async () => {
    const [first, second] = sys.gatewayUrls as [string, string];
    const created = await api(first, '/v1/schedules', {
      method: 'POST',
      json: {
        name: 'each second',
        cron: '*/1 * * * * *',
        task: { type: 'noop', payload: {} },
        overlap: 'allow',
      },
    });
    expect(created.status).to.equal(201);
    const schedule = created.body as Schedule;
    await sleep(4_000);
    await restart('store');
    await sleep(1_500);
    await restart('gateway');
    await sleep(1_500);
    const paused = await api(second, `/v1/schedules/${schedule.id}`, {
      method: 'PATCH',
      json: { paused: true },
    });
    expect(paused.body).to.include({ paused: true });
    await sleep(1_500); // a keeper pass under way ends

    const list = await api(second, '/v1/tasks?type=noop&limit=500');
    const tasks = (list.body.items as TaskSummary[])
      .filter((t) => t.scheduleId === schedule.id)
      .sort((a, b) => a.runAt.localeCompare(b.runAt));
    const keys = tasks.map((t) => t.idempotencyKey);
    expect(new Set(keys).size, 'no tick twice').to.equal(keys.length);
    expect(keys).to.deep.equal(tasks.map((t) => `schedule:${schedule.id}:${t.runAt}`));
    // Every second from the first tick to the last: none missed through the restarts.
    const seconds = tasks.map((t) => Date.parse(t.runAt) / 1000);
    expect(seconds).to.deep.equal(seconds.map((_, i) => seconds[0]! + i));
    expect(tasks.length).to.be.at.least(8);

    const deadline = Date.now() + 30_000;
    let statuses: string[] = [];
    while (Date.now() < deadline) {
      const now = await Promise.all(tasks.map((t) => api(first, `/v1/tasks/${t.id}`)));
      statuses = now.map((r) => String(r.body.status));
      if (statuses.every((s) => s === 'succeeded')) break;
      await sleep(300);
    }
    expect(new Set(statuses)).to.deep.equal(new Set(['succeeded']));
    const shown = (await api(first, `/v1/schedules/${schedule.id}`)).body as Schedule;
    expect(shown.lastTaskId).to.equal(tasks.at(-1)!.id);
  });
});
