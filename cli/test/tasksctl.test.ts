import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Stats, Task } from '@tasks/contracts';
import { freePort, noopType, startStore, type StoreFixture } from '@tasks/testkit';
import { columnStarts, errorType, tasksctl, expectRefused } from './support/run.js';

const TOKEN = 'a-token-of-sixteen-chars';

describe('tasksctl against a real store (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const run = (...argv: string[]) => tasksctl([...argv, '--url', f.url]);
  const create = async (n: number) =>
    (await f.client.call('tasks.create', { type: noopType.type, payload: { n } })).task;

  describe('list', () => {
    it('when tasks exist, then it prints an aligned table of id, type, status, attempts/max, age and updated', async () => {
      const tasks = [await create(1), await create(2)];
      const { code, stdout, stderr } = await run('list');
      expect(code).to.equal(0);
      expect(stderr).to.equal('');
      const [header, ...rows] = stdout.trimEnd().split('\n');
      expect(header).to.match(/^ID\s+TYPE\s+STATUS\s+ATTEMPTS\s+AGE\s+UPDATED$/);
      expect(rows).to.have.length(2);
      // Newest first.
      expect(rows[0]).to.match(
        new RegExp(`^${tasks[1]!.id}\\s+test\\.noop\\s+queued\\s+0/2\\s+\\d+s\\s+\\d+s ago$`),
      );
      const starts = columnStarts(header!);
      expect(starts).to.have.length(6);
      for (const row of rows) {
        expect(row.slice(starts[1]), row).to.match(/^test\.noop /);
        expect(row.slice(starts[2]), row).to.match(/^queued /);
      }
      expect(stdout).not.to.include('next cursor');
    });

    it('when there are more tasks than --limit, then it prints the next cursor, and --cursor gives the rest', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 3; i++) ids.add((await create(i)).id);
      const first = await run('list', '--limit', '2');
      expect(first.code).to.equal(0);
      const cursor = /^next cursor: (\S+)$/m.exec(first.stdout)?.[1];
      expect(cursor, first.stdout).to.be.a('string');
      const second = await run('list', '--limit', '2', '--cursor', cursor!, '--json');
      expect(second.code).to.equal(0);
      const page = JSON.parse(second.stdout) as { items: Task[]; nextCursor: string | null };
      expect(page.items).to.have.length(1);
      expect(page.nextCursor).to.equal(null);
      const shown = [...first.stdout.matchAll(/^(\S+)\s+test\.noop/gm)].map((m) => m[1]);
      expect(new Set([...shown, page.items[0]!.id])).to.deep.equal(ids);
    });

    it('when --json is given, then stdout is the page as JSON', async () => {
      const task = await create(1);
      const { code, stdout } = await run('list', '--json');
      expect(code).to.equal(0);
      const page = JSON.parse(stdout) as { items: Task[]; nextCursor: string | null };
      expect(page.items.map((t) => t.id)).to.deep.equal([task.id]);
      expect(page.nextCursor).to.equal(null);
    });

    it('when --fields names detail parts, then the items carry them; an unknown name is a usage error (exit 2)', async () => {
      const task = await create(3);
      const plain = JSON.parse((await run('list', '--json')).stdout) as { items: Record<string, unknown>[] };
      expect(plain.items[0]).to.include({ id: task.id }).and.not.have.any.keys('payload', 'history');
      const { code, stdout } = await run('list', '--fields', 'payload,history', '--json');
      expect(code).to.equal(0);
      const [item] = (JSON.parse(stdout) as { items: Task[] }).items;
      expect(item!.payload).to.deep.equal({ n: 3 });
      expect(item!.history).to.have.length(1);
      expect(item).to.not.have.property('result');
      const bad = await run('list', '--fields', 'payload,secret');
      expect(bad.code).to.equal(2);
      expect(bad.stdout).to.equal('');
    });

    it('when filtered by --status, --type and --created-after, then only matching tasks are listed', async () => {
      const kept = await create(1);
      const cancelled = await create(2);
      await f.client.call('tasks.cancel', { id: cancelled.id });
      const { code, stdout } = await run(
        'list',
        '--status',
        'queued',
        '--type',
        'test.noop',
        '--created-after',
        '1h',
        '--json',
      );
      expect(code).to.equal(0);
      expect((JSON.parse(stdout) as { items: Task[] }).items.map((t) => t.id)).to.deep.equal([kept.id]);
      const none = await run('list', '--status', 'queued', '--created-before', '1h');
      expect(none).to.include({ code: 0, stdout: 'no tasks\n' });
    });

    it('when the store refuses a forged cursor (VALIDATION_FAILED), then exit 2', async () => {
      expectRefused(await run('list', '--cursor', 'not-a-real-cursor'), 2, 'VALIDATION_FAILED');
    });
  });

  describe('get', () => {
    it('when the task exists, then it shows its details, and --json prints the task', async () => {
      const task = await create(7);
      const shown = await run('get', task.id);
      expect(shown.code).to.equal(0);
      expect(shown.stdout).to.match(new RegExp(`^id:\\s+${task.id}$`, 'm'));
      expect(shown.stdout).to.match(/^type:\s+test\.noop \(io\)$/m);
      expect(shown.stdout).to.match(/^status:\s+queued$/m);
      expect(shown.stdout).to.match(/^attempts:\s+0\/2$/m);
      expect(shown.stdout).to.match(/^payload:\s+\{"n":7\}$/m);
      expect(shown.stdout).to.match(/^history:\n {2}\d{4}-\d\d-\d\d \S+ \(\d+\w+ ago\) {2}queued by /m);
      const json = await run('get', task.id, '--json');
      expect(json.code).to.equal(0);
      expect(JSON.parse(json.stdout)).to.deep.equal(task);
    });

    it('when the task does not exist, then exit 3 with one TASK_NOT_FOUND line on stderr', async () => {
      expectRefused(await run('get', 'no-such-task'), 3, 'TASK_NOT_FOUND');
    });
  });

  describe('cancel, retry, requeue-expired', () => {
    it('when a task is cancelled twice, then the first exits 0 and the second exits 4 naming the current status', async () => {
      const task = await create(1);
      const first = await run('cancel', task.id, '--reason', 'not needed');
      expect(first).to.deep.equal({ code: 0, stdout: `task ${task.id} is cancelled\n`, stderr: '' });
      const stored = await f.client.call('tasks.get', { id: task.id });
      expect(stored.status).to.equal('cancelled');
      expect(stored.history.at(-1)?.by).to.equal('tasksctl');

      const second = await run('cancel', task.id);
      expect(second.code).to.equal(4);
      expect(second.stdout).to.equal('');
      expect(errorType(second.stderr)).to.equal('INVALID_TRANSITION');
      expect(second.stderr).to.include('(current status: cancelled)');
    });

    it('when a cancelled task is retried, then it is queued again; retrying a queued one exits 4', async () => {
      const task = await create(1);
      await f.client.call('tasks.cancel', { id: task.id });
      const retried = await run('retry', task.id, '--json');
      expect(retried.code).to.equal(0);
      expect((JSON.parse(retried.stdout) as Task).status).to.equal('queued');
      const again = await run('retry', task.id);
      expect(again.code).to.equal(4);
      expect(errorType(again.stderr)).to.equal('INVALID_TRANSITION');
    });

    it('when cancel names an unknown task, then exit 3', async () => {
      const { code, stderr } = await run('cancel', 'no-such-task');
      expect(code).to.equal(3);
      expect(errorType(stderr)).to.equal('TASK_NOT_FOUND');
    });

    it('when a lease has expired, then requeue-expired hands the task back; with none left, it says so', async () => {
      const task = await create(1);
      await f.client.call('tasks.claim', { id: task.id, workerId: 'gone', leaseMs: 1_000 });
      await new Promise((r) => setTimeout(r, 1_100));
      const { code, stdout } = await run('requeue-expired', '--limit', '10', '--json');
      expect(code).to.equal(0);
      const { items } = JSON.parse(stdout) as { items: Task[] };
      expect(items.map((t) => [t.id, t.status])).to.deep.equal([[task.id, 'queued']]);
      expect(await run('requeue-expired')).to.include({ code: 0, stdout: 'no expired leases\n' });
    });
  });

  describe('stats and types', () => {
    it('when stats runs, then it prints counts by status and by type; --json parses as Stats', async () => {
      await create(1);
      const cancelled = await create(2);
      await f.client.call('tasks.cancel', { id: cancelled.id });
      const table = await run('stats');
      expect(table.code).to.equal(0);
      expect(table.stdout).to.match(/^STATUS\s+TASKS$/m);
      expect(table.stdout).to.match(/^queued\s+1$/m);
      expect(table.stdout).to.match(/^cancelled\s+1$/m);
      expect(table.stdout).to.match(/^total\s+2$/m);
      expect(table.stdout).to.match(/^TYPE\s+WAITING\s+QUEUED\s+RUNNING\s+SUCCEEDED\s+FAILED\s+CANCELLED$/m);
      expect(table.stdout).to.match(/^test\.noop\s+0\s+1\s+0\s+0\s+0\s+1$/m);
      expect(table.stdout).to.match(/^last minute: 0 succeeded, 0 failed$/m);
      const json = await run('stats', '--json');
      expect(json.code).to.equal(0);
      const stats = JSON.parse(json.stdout) as Stats;
      expect(stats.byStatus.queued).to.equal(1);
      expect(stats.byStatus.cancelled).to.equal(1);
    });

    it('when types runs, then it lists the registered type; --json parses', async () => {
      const table = await run('types');
      expect(table.code).to.equal(0);
      expect(table.stdout).to.match(
        /^TYPE\s+KIND\s+PAUSED\s+CONCURRENCY\s+RATE\s+TIMEOUT\s+ATTEMPTS\s+REGISTERED BY\s+UPDATED\s+DESCRIPTION$/m,
      );
      expect(table.stdout).to.match(
        /^test\.noop\s+io\s+no\s+-\s+-\s+5s\s+2\s+fixture\s+\d+\w+ ago\s+does nothing$/m,
      );
      await f.client.call('taskTypes.updateSettings', {
        type: noopType.type,
        paused: true,
        ratePerSecond: 0.5,
      });
      expect((await run('types')).stdout).to.match(/^test\.noop\s+io\s+yes\s+-\s+0\.5\/s\s+5s/m);
      const json = await run('types', '--json');
      expect(json.code).to.equal(0);
      const { items } = JSON.parse(json.stdout) as { items: { type: string }[] };
      expect(items.map((t) => t.type)).to.deep.equal(['test.noop']);
    });
  });

  for (const name of ['STORE_URL', 'TASKS_STORE_URL']) {
    it(`when options come before the command and the URL from ${name}, then it works the same`, async () => {
      const { code, stdout } = await tasksctl(['--timeout', '5s', 'stats', '--json'], { [name]: f.url });
      expect(code).to.equal(0);
      expect(JSON.parse(stdout)).to.have.property('byStatus');
    });
  }

  it('when STORE_URL and TASKS_STORE_URL differ, then STORE_URL (the services’ name) wins', async () => {
    const port = await freePort();
    const { code } = await tasksctl(['stats', '--json'], {
      STORE_URL: f.url,
      TASKS_STORE_URL: `http://127.0.0.1:${port}/rpc`,
    });
    expect(code).to.equal(0);
  });
});

describe('tasksctl when the store cannot be used (integration)', () => {
  it('when nothing listens at --url, then exit 5 with one DEPENDENCY_UNAVAILABLE line', async () => {
    const port = await freePort();
    expectRefused(
      await tasksctl(['stats', '--url', `http://127.0.0.1:${port}/rpc`]),
      5,
      'DEPENDENCY_UNAVAILABLE',
    );
  });

  describe('a store started with RPC_TOKEN', () => {
    let f: StoreFixture;
    beforeEach(async () => (f = await startStore({ RPC_TOKEN: TOKEN })));
    afterEach(() => f.close());

    it('when the token is wrong or missing, then exit 6 with one UNAUTHORIZED line', async () => {
      const wrong = await tasksctl(['stats', '--url', f.url, '--token', `${TOKEN}x`]);
      expect(wrong.code).to.equal(6);
      expect(errorType(wrong.stderr)).to.equal('UNAUTHORIZED');
      const missing = await tasksctl(['types', '--url', f.url]);
      expect(missing.code).to.equal(6);
    });

    it('when RPC_TOKEN is in the environment, then calls are authorised', async () => {
      const { code, stdout } = await tasksctl(['types', '--json', '--url', f.url], { RPC_TOKEN: TOKEN });
      expect(code).to.equal(0);
      expect(JSON.parse(stdout)).to.have.property('items');
    });
  });
});

describe('tasksctl usage', () => {
  const usage: [string, string[]][] = [
    ['an unknown command', ['frobnicate']],
    ['an unknown option', ['list', '--bogus']],
    ['a missing argument', ['get']],
    ['an extra argument', ['stats', 'extra']],
    ['a status that does not exist', ['list', '--status', 'done']],
    ['a limit that is not a positive integer', ['list', '--limit', '0']],
    ['a timeout of zero', ['stats', '--timeout', '0s']],
    ['a time that is neither ISO-8601 nor an age', ['list', '--created-after', 'yesterday']],
    ['a URL that is not http(s)', ['stats', '--url', 'ftp://example.test/rpc']],
    ['a payload that is not JSON', ['submit', 'test.noop', '--payload', '{n: 1}']],
  ];
  for (const [what, argv] of usage) {
    it(`when given ${what}, then exit 2 with one USAGE line and nothing on stdout`, async () => {
      expectRefused(await tasksctl(argv), 2, 'USAGE');
    });
  }

  it('when run with no command, then help goes to stderr and exit 2', async () => {
    const { code, stdout, stderr } = await tasksctl([]);
    expect(code).to.equal(2);
    expect(stdout).to.equal('');
    expect(stderr).to.include('Usage: tasksctl');
  });

  it('when --help is given, then the help ends with the environment and the exit codes, exit 0', async () => {
    const { code, stdout } = await tasksctl(['--help']);
    expect(code).to.equal(0);
    expect(stdout).to.include('STORE_URL');
    expect(stdout).to.include('TASKS_STORE_URL, its earlier name');
    expect(stdout).to.match(/^Exit codes:\n {2}0 {2}ok\n {2}1 {2}unexpected error\n {2}2 {2}usage error/m);
    for (const n of [3, 4, 5, 6]) expect(stdout).to.match(new RegExp(`^ {2}${n} {2}\\S`, 'm'));
  });

  for (const command of [
    'get',
    'list',
    'stats',
    'types',
    'cancel',
    'retry',
    'requeue-expired',
    'submit',
    'type',
    'type limits',
  ]) {
    it(`when ${command} --help is given, then it prints that command's usage, exit 0`, async () => {
      const { code, stdout } = await tasksctl([...command.split(' '), '--help']);
      expect(code).to.equal(0);
      expect(stdout).to.include(`Usage: tasksctl ${command}`);
      expect(stdout).to.include('--url <url>');
    });
  }

  it('when --version is given, then it prints the version, exit 0', async () => {
    expect(await tasksctl(['--version'])).to.deep.equal({ code: 0, stdout: '9.9.9-test\n', stderr: '' });
  });
});

describe('bin/tasksctl.mjs (integration)', () => {
  let f: StoreFixture;
  before(async () => (f = await startStore()));
  after(() => f.close());

  it('when run as a program, then `stats --json --url` exits 0 and prints the stats as JSON', async () => {
    const bin = fileURLToPath(new URL('../bin/tasksctl.mjs', import.meta.url));
    // A plain node: neither mocha's --conditions=source nor its tsx loader may leak in.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [bin, 'stats', '--json', '--url', f.url], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).to.equal(0);
    const stats = JSON.parse(stdout) as Stats;
    expect(stats.byStatus).to.include({ queued: 0, running: 0 });
  });
});
