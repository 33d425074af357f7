import { expect } from 'chai';
import { startGatewayFixture, type GatewayFixture } from '@tasks/testkit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('REST API /v1/schedules (integration: store, RabbitMQ, FerretDB)', function () {
  this.timeout(30_000);
  let f: GatewayFixture;
  before(async () => (f = await startGatewayFixture()));
  after(() => f.close());

  const body = {
    name: 'every second',
    cron: '* * * * * *',
    task: { type: 'test.sleep', payload: { ms: 1 } },
    overlap: 'allow',
  };
  const schedules = async () => (await f.request('/v1/schedules')).body.items as { id: string }[];

  it('when a schedule is created, then 201 with its id and next tick, and its ticks become tasks naming it that are published', async () => {
    const r = await f.request('/v1/schedules', { method: 'POST', json: body });
    expect(r.status).to.equal(201);
    expect(r.body).to.include({ name: 'every second', paused: false, timezone: 'UTC', overlap: 'allow' });
    expect(r.body.nextRunAt).to.be.a('string');
    expect(r.headers.get('location')).to.equal(`/v1/schedules/${r.body.id}`);
    expect((await f.request(`/v1/schedules/${r.body.id}`)).body).to.include({ id: r.body.id });
    await sleep(2_500);
    const paused = await f.request(`/v1/schedules/${r.body.id}`, { method: 'PATCH', json: { paused: true } });
    expect(paused.status).to.equal(200);
    expect(paused.body).to.include({ paused: true, nextRunAt: null });
    const lastTaskId: string = paused.body.lastTaskId;
    const task = await f.request(`/v1/tasks/${lastTaskId}`);
    expect(task.body).to.include({ scheduleId: r.body.id, type: 'test.sleep' });
    expect(task.body.idempotencyKey).to.equal(`schedule:${r.body.id}:${task.body.runAt}`);
    // Published by the gateway's outbox pass, like any task created without it.
    const deadline = Date.now() + 5_000;
    while ((await f.queueDepth('test.sleep')) === 0 && Date.now() < deadline) await sleep(200);
    expect(await f.queueDepth('test.sleep')).to.be.at.least(1);

    const del = await f.request(`/v1/schedules/${r.body.id}`, { method: 'DELETE' });
    expect(del.status).to.equal(204);
    expect((await f.request(`/v1/schedules/${r.body.id}`)).body.code).to.equal('SCHEDULE_NOT_FOUND');
    expect((await f.request(`/v1/schedules/${r.body.id}`, { method: 'DELETE' })).status).to.equal(404);
  });

  it('when the input is bad, then a clear 4xx like POST /v1/tasks gives, naming the field, and nothing is created', async () => {
    const cases: [object, number, string, string | undefined][] = [
      [{ ...body, cron: '* * 99 * *' }, 400, 'VALIDATION_FAILED', '/cron'],
      [{ ...body, cron: 'every day' }, 400, 'VALIDATION_FAILED', '/cron'],
      [{ ...body, timezone: 'Atlantis/Capital' }, 400, 'VALIDATION_FAILED', '/timezone'],
      [{ ...body, task: { type: 'no.such' } }, 400, 'UNKNOWN_TASK_TYPE', undefined],
      [
        { ...body, task: { type: 'test.sleep', payload: { ms: 'x' } } },
        422,
        'PAYLOAD_INVALID',
        '/task/payload/ms',
      ],
      [
        { ...body, task: { type: 'test.sleep', runAt: '2030-01-01T00:00:00Z' } },
        400,
        'VALIDATION_FAILED',
        '/task/runAt',
      ],
      [{ ...body, overlap: 'queue' }, 400, 'VALIDATION_FAILED', '/overlap'],
      [{ cron: body.cron, task: body.task }, 400, 'VALIDATION_FAILED', '/name'],
    ];
    for (const [json, status, code, path] of cases) {
      const r = await f.request('/v1/schedules', { method: 'POST', json });
      expect(r.status, JSON.stringify(json)).to.equal(status);
      expect(r.body.code).to.equal(code);
      if (path !== undefined) expect(r.body.fields?.[0]?.path, JSON.stringify(r.body)).to.equal(path);
    }
    const unknown = await f.request('/v1/tasks', { method: 'POST', json: { type: 'no.such' } });
    const viaSchedule = await f.request('/v1/schedules', {
      method: 'POST',
      json: { ...body, task: { type: 'no.such' } },
    });
    expect(viaSchedule.body.knownTypes).to.deep.equal(unknown.body.knownTypes);
    expect(await schedules()).to.deep.equal([]);
  });

  it('when a patch is bad, then 4xx and the schedule is unchanged', async () => {
    const { body: s } = await f.request('/v1/schedules', { method: 'POST', json: { ...body, paused: true } });
    for (const [json, status] of [
      [{}, 400],
      [{ cron: '* *' }, 400],
      [{ paused: 'yes' }, 400],
      [{ task: { type: 'test.sleep', payload: {} } }, 422],
    ] as const) {
      const r = await f.request(`/v1/schedules/${s.id}`, { method: 'PATCH', json });
      expect(r.status, JSON.stringify(json)).to.equal(status);
    }
    const after = await f.request(`/v1/schedules/${s.id}`);
    expect(after.body).to.deep.equal(s);
    const renamed = await f.request(`/v1/schedules/${s.id}`, { method: 'PATCH', json: { name: 'renamed' } });
    expect(renamed.body).to.include({ name: 'renamed', version: s.version + 1 });
    expect(
      (await f.request('/v1/schedules/no$such', { method: 'PATCH', json: { paused: true } })).status,
    ).to.equal(404);
  });
});
