import { expect } from 'chai';
import type { Schedule } from '@tasks/contracts';
import { noopType, startStore, type StoreFixture } from '@tasks/testkit';
import { columnStarts, errorType, tasksctl } from './support/run.js';

describe('tasksctl schedule against a real store (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const run = (...argv: string[]) => tasksctl([...argv, '--url', f.url]);
  const create = (...extra: string[]) =>
    run('schedule', 'create', 'nightly', '0 3 * * *', noopType.type, '--payload', '{"n": 4}', ...extra);

  it('when a schedule is created, then its fields are printed and list shows one aligned row for it', async () => {
    const made = await create('--timezone', 'Europe/Berlin', '--overlap', 'allow', '--json');
    expect(made.code, made.stderr).to.equal(0);
    const s = JSON.parse(made.stdout) as Schedule;
    expect(s).to.include({ name: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', overlap: 'allow' });
    expect(s.task).to.deep.equal({ type: noopType.type, payload: { n: 4 } });

    const shown = await run('schedule', 'get', s.id);
    expect(shown.code).to.equal(0);
    expect(shown.stdout).to.include(`schedule: ${s.id}\n`);
    expect(shown.stdout).to.include('cron: 0 3 * * * (Europe/Berlin)\n');
    expect(shown.stdout).to.include('task: test.noop {"n":4}\n');
    expect(shown.stdout).to.match(/next run: \d{4}-\d\d-\d\d 0[12]:00:00Z \(in \w+\)\n/);

    const listed = await run('schedule', 'list');
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).to.match(/^ID\s+NAME\s+CRON\s+TIMEZONE\s+TASK TYPE\s+STATE\s+NEXT RUN\s+LAST RUN$/);
    expect(rows).to.have.length(1);
    const starts = columnStarts(header!);
    expect(rows[0]!.slice(starts[2], starts[3]).trim()).to.equal('0 3 * * *');
    expect(rows[0]!.slice(starts[5], starts[6]).trim()).to.equal('active');
    expect(rows[0]!.slice(starts[7])).to.equal('-');
  });

  it('when the cron or the payload is bad, then exit 2 with one line naming the field, and nothing is created', async () => {
    const badCron = await run('schedule', 'create', 'x', '0 3 * *', noopType.type);
    expect(badCron.code).to.equal(2);
    expect(errorType(badCron.stderr)).to.equal('VALIDATION_FAILED');
    expect(badCron.stderr).to.include('/cron');
    const badPayload = await create('--payload', '{"n": -1}');
    expect(badPayload.code).to.equal(2);
    expect(errorType(badPayload.stderr)).to.equal('PAYLOAD_INVALID');
    expect((await run('schedule', 'list')).stdout).to.equal('no schedules\n');
  });

  it('when a schedule is paused, resumed and deleted, then each says so, and a second delete is not found (exit 3)', async () => {
    const s = JSON.parse((await create('--json')).stdout) as Schedule;
    const paused = await run('schedule', 'pause', s.id);
    expect(paused.stdout).to.equal(`schedule ${s.id} is paused\n`);
    expect((await f.client.call('schedules.get', { id: s.id })).paused).to.equal(true);
    const resumed = await run('schedule', 'resume', s.id);
    expect(resumed.stdout).to.match(new RegExp(`^schedule ${s.id} is active, next run \\d{4}-`));
    const deleted = await run('schedule', 'delete', s.id);
    expect(deleted.code).to.equal(0);
    const again = await run('schedule', 'delete', s.id);
    expect(again.code).to.equal(3);
    expect(errorType(again.stderr)).to.equal('SCHEDULE_NOT_FOUND');
    expect((await run('schedule', 'get', s.id)).code).to.equal(3);
  });
});

describe('tasksctl schedule usage', () => {
  it('when schedule --help is given, then it lists the six subcommands with an example, exit 0', async () => {
    const { code, stdout } = await tasksctl(['schedule', '--help']);
    expect(code).to.equal(0);
    for (const sub of ['list', 'get', 'create', 'pause', 'resume', 'delete'])
      expect(stdout).to.match(new RegExp(`^ {2}${sub} `, 'm'));
    expect(stdout).to.include("tasksctl schedule create nightly-primes '0 3 * * *'");
  });
});
