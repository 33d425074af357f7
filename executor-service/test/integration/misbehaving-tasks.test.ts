import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Task } from '@tasks/contracts';
import { startExecutorHarness, type ExecutorHarness } from '@tasks/testkit';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const MISBEHAVING = fileURLToPath(new URL('../fixtures/misbehaving', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type LogLine = { level: number; msg: string; taskId?: string; error?: { code?: string } };

// The executor runs as its own process (main.ts, so its real process-level handlers are in
// place, and mocha's own uncaughtException handler does not see the fixtures' crashes).
describe('misbehaving task code (integration)', function () {
  this.timeout(90_000);
  let sys: ExecutorHarness;
  let child: ChildProcess;
  let pid: number;
  const logs: LogLine[] = [];

  before(async () => {
    sys = await startExecutorHarness();
    child = spawn(process.execPath, ['--conditions=source', '--import=tsx', MAIN], {
      env: {
        ...process.env,
        ...sys.executorEnv,
        TASKS_DIR: MISBEHAVING,
        WORKER_ID: 'guarded',
        LOG_LEVEL: 'info',
        CPU_WORKERS: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    pid = child.pid!;
    let rest = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as LogLine);
    });
    for (let i = 0; i < 300; i++) {
      const { items } = await sys.store.call('taskTypes.list', {});
      if (items.some((x) => x.type === 'misbehaving.timer-throws')) return;
      await sleep(100);
    }
    throw new Error('the executor did not register the misbehaving types');
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await sys.close();
  });

  /** The same executor process is still there and still runs an io and a cpu task to success. */
  async function expectExecutorAlive(): Promise<void> {
    expect(child.exitCode, 'executor exited').to.equal(null);
    expect(child.pid).to.equal(pid);
    const io = await sys.submit('noop', {});
    const cpu = await sys.submit('primes.count', { upTo: 1_000 });
    await sys.waitFor(io.id, (x) => x.status === 'succeeded');
    const primes = await sys.waitFor(cpu.id, (x) => x.status === 'succeeded');
    expect(primes.result).to.deep.include({ count: 168 });
  }

  async function finished(type: string, payload: unknown): Promise<Task> {
    const t = await sys.submit(type, payload);
    return sys.waitFor(t.id, (x) => x.status === 'succeeded' || x.status === 'failed', 40_000);
  }

  async function untilLogged(what: (l: LogLine) => boolean): Promise<LogLine[]> {
    for (let i = 0; i < 200 && !logs.some(what); i++) await sleep(50);
    return logs.filter(what);
  }

  for (const type of ['misbehaving.progress-bad-args', 'misbehaving.cpu-progress-bad-args']) {
    it(`when ${type} calls progress(10, 42) among other bad calls, then the values are coerced, one warning is logged, and the task succeeds`, async () => {
      const t = await sys.submit(type, { ms: 2_500 });
      // A heartbeat (every LEASE_MS / 3) carries the last call's progress.
      const running = await sys.waitFor(
        t.id,
        (x) => x.status === 'succeeded' || x.status === 'failed' || x.progressMessage === '42',
      );
      expect(running).to.include({ status: 'running', progress: 10, progressMessage: '42' });
      const done = await sys.waitFor(t.id, (x) => x.status === 'succeeded' || x.status === 'failed');
      expect(done.status).to.equal('succeeded');
      const warnings = await untilLogged(
        (l) => l.taskId === t.id && l.msg === 'task code called progress with bad values',
      );
      expect(warnings, 'one warning per attempt').to.have.length(1);
      await expectExecutorAlive();
    });
  }

  const nonErrors = ['string', 'number', 'null', 'undefined', 'odd-fields', 'throwing-getters', 'proxy'];
  for (const type of ['misbehaving.throws-non-error', 'misbehaving.cpu-throws-non-error']) {
    it(`when ${type} throws a string, a number, null, undefined, an object with odd fields, throwing getters or a Proxy, then each task fails with NON_ERROR_THROWN and a string message`, async () => {
      const done = await Promise.all(nonErrors.map((what) => finished(type, { what })));
      for (const [i, t] of done.entries()) {
        expect(t.status, nonErrors[i]).to.equal('failed');
        expect(t.error!.code, nonErrors[i]).to.equal('NON_ERROR_THROWN');
        expect(t.error!.message).to.be.a('string').with.length.within(1, 2_000);
        expect(t.attempts).to.equal(1);
      }
      await expectExecutorAlive();
    });
  }

  for (const kind of ['', 'cpu-'])
    it(`when a ${kind || 'io-'}handler returns a BigInt, a cycle or a function, then its task fails with RESULT_NOT_JSON, not retried`, async () => {
      for (const what of ['returns-bigint', 'returns-cycle', 'returns-function']) {
        const t = await finished(`misbehaving.${kind}${what}`, {});
        expect(t.status, what).to.equal('failed');
        expect(t.error, what).to.include({ code: 'RESULT_NOT_JSON', retryable: false });
        expect(t.attempts).to.equal(1);
      }
      await expectExecutorAlive();
    });

  for (const type of [
    'misbehaving.timer-throws',
    'misbehaving.unhandled-rejection',
    'misbehaving.cpu-timer-throws',
    'misbehaving.cpu-unhandled-rejection',
  ]) {
    it(`when ${type} lets an error escape while it runs, then its task fails with TASK_CRASHED and the executor keeps running`, async () => {
      const t = await finished(type, { ms: 30_000 });
      expect(t.status).to.equal('failed');
      expect(t.error!.code).to.equal('TASK_CRASHED');
      expect(t.error!.message).to.be.a('string');
      await expectExecutorAlive();
    });
  }

  it('when an io handler leaves a timer that throws after its task succeeded, then the crash is logged with the task id and the executor keeps running', async () => {
    const t = await finished('misbehaving.late-timer-throws', {});
    expect(t.status).to.equal('succeeded');
    const logged = await untilLogged(
      (l) => l.taskId === t.id && l.msg === 'task code crashed after its attempt ended',
    );
    expect(logged[0]?.error?.code).to.equal('TASK_CRASHED');
    await expectExecutorAlive();
  });

  it('when a cpu handler leaves a timer that throws after its task succeeded, then the thread survives, the crash is logged with the next job, and the executor keeps running', async () => {
    const t = await finished('misbehaving.cpu-late-timer-throws', {});
    expect(t.status).to.equal('succeeded');
    // A later cpu job in that (only) thread reports it: the first one may start before the timer fires.
    const reported = (l: LogLine) => l.msg === 'task code crashed in a pool thread after its attempt ended';
    for (let i = 0; i < 20 && !logs.some(reported); i++) await expectExecutorAlive();
    const logged = await untilLogged(reported);
    expect(logged[0]?.error?.code).to.equal('TASK_CRASHED');
    await expectExecutorAlive();
  });
});
