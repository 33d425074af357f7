import { expect } from 'chai';
import type { Page, TaskSummary } from '@tasks/contracts';
import type { RunningGateway } from '@tasks/gateway-service';
import { noopType, startGatewayWithoutBroker, startStore, type StoreFixture } from '@tasks/testkit';
import { errorType, tasksctl } from './support/run.js';

describe('tasksctl tags, metadata and bulk actions through a real gateway (integration)', function () {
  this.timeout(60_000);
  let f: StoreFixture;
  let gateway: RunningGateway;
  beforeEach(async () => {
    f = await startStore();
    // No broker: retried tasks are left to the dispatcher (off here); the store is what is checked.
    gateway = await startGatewayWithoutBroker(f.url);
  });
  afterEach(async () => {
    await gateway.stop();
    await f.close();
  });

  const run = (...argv: string[]) =>
    tasksctl(argv.includes('list') ? [...argv, '--url', f.url] : [...argv, '--gateway', gateway.url]);

  it('when tasks are submitted with --tag and --meta, then list --tag and --meta find exactly them', async () => {
    const a = await run(
      'submit',
      noopType.type,
      '--tag',
      'red',
      '--tag',
      'big',
      '--meta',
      'team=core',
      '--json',
    );
    const b = await run('submit', noopType.type, '--tag', 'red', '--meta', 'team=web=x', '--json');
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    const [ta, tb] = [a, b].map((r) => JSON.parse(r.stdout) as TaskSummary);
    expect(ta).to.deep.include({ tags: ['red', 'big'], metadata: { team: 'core' } });
    expect(tb!.metadata).to.deep.equal({ team: 'web=x' });
    const list = async (...filters: string[]) => {
      const r = await run('list', ...filters, '--json');
      expect(r.code, r.stderr).to.equal(0);
      return (JSON.parse(r.stdout) as Page<TaskSummary>).items.map((t) => t.id);
    };
    expect(await list('--tag', 'red')).to.deep.equal([tb!.id, ta!.id]);
    expect(await list('--tag', 'red', '--tag', 'big')).to.deep.equal([ta!.id]);
    expect(await list('--meta', 'team=web=x')).to.deep.equal([tb!.id]);
    expect(await list('--tag', 'red', '--meta', 'team=core', '--status', 'queued')).to.deep.equal([ta!.id]);
  });

  it('when --tag or --meta is malformed, then exit 2 and nothing is sent', async () => {
    for (const argv of [
      ['submit', noopType.type, '--tag', 'a b'],
      ['submit', noopType.type, '--meta', 'novalue'],
      ['submit', noopType.type, '--meta', 'a.b=c'],
      ['list', '--tag', ''],
    ]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).to.equal(2);
    }
    expect((await f.client.call('tasks.list', {})).items).to.have.length(0);
  });

  it('when bulk cancel runs over more than a page, then --dry-run only counts, the run prints progress per page and cancels every match', async () => {
    await f.client.call('tasks.createMany', {
      tasks: Array.from({ length: 130 }, () => ({ type: noopType.type, tags: ['sweep'] })),
    });
    const dry = await run('bulk', 'cancel', '--tag', 'sweep', '--dry-run');
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.equal('130 tasks would be cancelled (dry run)\n');
    const real = await run('bulk', 'cancel', '--tag', 'sweep', '--status', 'queued', '--json');
    expect(real.code, real.stderr).to.equal(0);
    expect(JSON.parse(real.stdout)).to.deep.equal({
      action: 'cancel',
      dryRun: false,
      matched: 130,
      changed: 130,
    });
    expect(real.stderr.split('\n').filter((l) => l.startsWith('…'))).to.deep.equal([
      '… 100 matched, 100 changed',
      '… 130 matched, 130 changed',
    ]);
    const again = await run('bulk', 'cancel', '--tag', 'sweep');
    expect(again.stdout).to.equal('0 of 0 matching tasks cancelled\n');
    expect((await f.client.call('tasks.list', { status: 'cancelled', limit: 500 })).items).to.have.length(
      130,
    );
  });

  it('when bulk is given no filter or a status the action does not apply to, then a usage error (2) or VALIDATION_FAILED (2)', async () => {
    const none = await run('bulk', 'retry');
    expect(none.code).to.equal(2);
    const wrong = await run('bulk', 'retry', '--status', 'queued');
    expect(wrong.code).to.equal(2);
    expect(errorType(wrong.stderr)).to.equal('VALIDATION_FAILED');
  });
});
