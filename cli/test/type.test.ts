import { expect } from 'chai';
import type { Task } from '@tasks/contracts';
import type { RunningGateway } from '@tasks/gateway-service';
import type { TypeSettingsView } from '../src/index.js';
import { noopType, startGatewayWithoutBroker, startStore, type StoreFixture } from '@tasks/testkit';
import { errorType, tasksctl, expectRefused } from './support/run.js';

const TYPE = noopType.type;

describe('tasksctl type and submit --expires-* through a real gateway (integration)', () => {
  let f: StoreFixture;
  let gateway: RunningGateway;
  beforeEach(async () => {
    f = await startStore();
    // No broker: the settings live in the store, and a resume's publication is left to the
    // dispatcher (off here), so nothing is left behind in RabbitMQ.
    gateway = await startGatewayWithoutBroker(f.url);
  });
  afterEach(async () => {
    await gateway.stop();
    await f.close();
  });

  const viaGateway = (...argv: string[]) => tasksctl([...argv, '--gateway', gateway.url]);
  const viaStore = (...argv: string[]) => tasksctl([...argv, '--url', f.url]);
  const stored = () => f.client.call('taskTypes.getSettings', { type: TYPE });
  const settingsOf = (stdout: string) => JSON.parse(stdout) as TypeSettingsView;

  describe('type pause and resume', () => {
    it('when a type is paused, then the store has it paused, types shows it, and a due task is shown held', async () => {
      const paused = await viaGateway('type', 'pause', TYPE);
      expect(paused.code, paused.stderr).to.equal(0);
      expect(paused.stdout).to.match(/^paused: +yes/m);
      expect(await stored()).to.include({ paused: true });

      const types = await viaStore('types');
      expect(types.stdout).to.match(/^TYPE\s+KIND\s+PAUSED\s+CONCURRENCY\s+RATE\s+TIMEOUT/m);
      expect(types.stdout).to.match(/^test\.noop\s+io\s+yes\s+-\s+-\s+5s/m);

      const { task } = await f.client.call('tasks.create', { type: TYPE, payload: { n: 1 } });
      await f.client
        .call('tasks.claim', { id: task.id, type: TYPE, workerId: 'w1', leaseMs: 30_000 })
        .catch(() => undefined);
      const shown = await viaStore('get', task.id);
      expect(shown.stdout).to.match(/^held: +waiting: type paused/m);

      const resumed = await viaGateway('type', 'resume', TYPE, '--json');
      expect(resumed.code, resumed.stderr).to.equal(0);
      expect(settingsOf(resumed.stdout)).to.include({ type: TYPE, paused: false });
      expect((await f.client.call('tasks.get', { id: task.id })).heldBy).to.equal(undefined);
      expect((await viaStore('get', task.id)).stdout).not.to.match(/^held:/m);
    });

    it('when the type is unknown, then exit 3 with one TASK_TYPE_NOT_FOUND line', async () => {
      for (const argv of [
        ['type', 'pause', 'no.such.type'],
        ['type', 'resume', 'no.such.type'],
        ['type', 'limits', 'no.such.type'],
        ['type', 'limits', 'no.such.type', '--concurrency', '2'],
      ]) {
        const { code, stdout, stderr } = await viaGateway(...argv);
        expect(code, argv.join(' ')).to.equal(3);
        expect(stdout).to.equal('');
        expect(errorType(stderr), stderr).to.equal('TASK_TYPE_NOT_FOUND');
      }
    });
  });

  describe('type limits', () => {
    it('when limits are set, then the store has them; none lifts one and keeps the other; no flag shows them', async () => {
      const set = await viaGateway('type', 'limits', TYPE, '--concurrency', '3', '--rate', '2.5', '--json');
      expect(set.code, set.stderr).to.equal(0);
      expect(settingsOf(set.stdout)).to.include({ concurrency: 3, ratePerSecond: 2.5, rateBurst: 3 });
      expect(await stored()).to.include({ concurrency: 3, ratePerSecond: 2.5 });

      const lifted = await viaGateway('type', 'limits', TYPE, '--rate', 'none');
      expect(lifted.code, lifted.stderr).to.equal(0);
      expect(await stored()).to.include({ concurrency: 3, ratePerSecond: null });

      const shown = await viaGateway('type', 'limits', TYPE);
      expect(shown.code, shown.stderr).to.equal(0);
      expect(shown.stdout).to.match(/^concurrency: +at most 3 running at once$/m);
      expect(shown.stdout).to.match(/^rate: +no limit$/m);
      expect(shown.stdout).to.match(/^changed: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ .* by \S+$/m);

      const types = await viaStore('types');
      expect(types.stdout).to.match(/^test\.noop\s+io\s+no\s+3\s+-\s+5s/m);
    });

    it('when a limit is out of range, then the gateway refuses it (exit 2) and nothing changes', async () => {
      for (const argv of [
        ['--concurrency', '20000'],
        ['--rate', '0.001'],
      ]) {
        const { code, stderr } = await viaGateway('type', 'limits', TYPE, ...argv);
        expect(code, stderr).to.equal(2);
        expect(errorType(stderr)).to.equal('VALIDATION_FAILED');
      }
      expect(await stored()).to.include({ concurrency: null, ratePerSecond: null });
    });
  });

  describe('type retention', () => {
    it('when a retention is set, then the store has it; default returns to the store’s; no value shows it', async () => {
      const set = await viaGateway('type', 'retention', TYPE, '86400', '--json');
      expect(set.code, set.stderr).to.equal(0);
      expect(settingsOf(set.stdout)).to.include({ retentionSeconds: 86_400 });
      expect((await stored()).retention).to.deep.equal({ seconds: 86_400, source: 'type' });

      const shown = await viaGateway('type', 'retention', TYPE);
      expect(shown.code, shown.stderr).to.equal(0);
      expect(shown.stdout).to.match(/^retention: +finished tasks kept 86400 s \(the type’s own\)$/m);

      const back = await viaGateway('type', 'retention', TYPE, 'default');
      expect(back.code, back.stderr).to.equal(0);
      expect(await stored()).to.include({ retentionSeconds: null });
      expect(back.stdout).to.match(/^retention: +finished tasks kept 604800 s \(the store’s default\)$/m);
    });

    it('when the value is not whole seconds within bounds, then exit 2 before any request and nothing changes', async () => {
      for (const value of ['0', '1.5', '315360001', 'forever']) {
        const { code } = await viaGateway('type', 'retention', TYPE, value);
        expect(code, value).to.equal(2);
      }
      expect(await stored()).to.include({ retentionSeconds: null });
      const unknown = await viaGateway('type', 'retention', 'no.such.type', '60');
      expect(unknown.code).to.equal(3);
      expect(errorType(unknown.stderr)).to.equal('TASK_TYPE_NOT_FOUND');
    });
  });

  describe('submit with a deadline', () => {
    it('when --expires-in is given, then the task expires that long from now and get shows it', async () => {
      const before = Date.now();
      const { code, stdout, stderr } = await viaGateway('submit', TYPE, '--expires-in', '1h', '--json');
      expect(code, stderr).to.equal(0);
      const task = JSON.parse(stdout) as Task;
      const expiresAt = Date.parse((await f.client.call('tasks.get', { id: task.id })).expiresAt ?? '');
      expect(expiresAt - before).to.be.within(3_600_000 - 1_000, 3_600_000 + 5_000);
      expect((await viaStore('get', task.id)).stdout).to.match(/^expires: +\S+ \S+Z \(in 59m\)/m);
    });

    it('when --expires-at is given, then the store keeps that time; a past one is refused (exit 2)', async () => {
      const at = new Date(Date.now() + 600_000).toISOString();
      const ok = await viaGateway('submit', TYPE, '--expires-at', at, '--json');
      expect(ok.code, ok.stderr).to.equal(0);
      const task = await f.client.call('tasks.get', { id: (JSON.parse(ok.stdout) as Task).id });
      expect(task.expiresAt).to.equal(at);

      const past = await viaGateway('submit', TYPE, '--expires-at', '2020-01-01T00:00:00Z');
      expect(past.code).to.equal(2);
      expect(errorType(past.stderr)).to.equal('VALIDATION_FAILED');
    });
  });
});

describe('tasksctl type and --expires-* usage', () => {
  const usage: [string, string[]][] = [
    ['a concurrency of zero', ['type', 'limits', TYPE, '--concurrency', '0']],
    ['a rate that is not a number', ['type', 'limits', TYPE, '--rate', 'fast']],
    ['no type name', ['type', 'pause']],
    ['an expiry that is not a time', ['submit', TYPE, '--expires-at', 'tomorrow']],
    ['both expiry options', ['submit', TYPE, '--expires-at', '2030-01-01T00:00:00Z', '--expires-in', '1h']],
  ];
  for (const [what, argv] of usage) {
    it(`when given ${what}, then exit 2 with one USAGE line and nothing on stdout`, async () => {
      expectRefused(await tasksctl(argv), 2, 'USAGE');
    });
  }

  it('when --help is given, then it lists the type command and TASK_TYPE_NOT_FOUND under exit code 3', async () => {
    const { stdout } = await tasksctl(['--help']);
    expect(stdout).to.match(/^ {2}type /m);
    expect(stdout).to.match(/^ {2}3 {2}not found \(.*TASK_TYPE_NOT_FOUND.*\)$/m);
  });
});
