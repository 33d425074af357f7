import { expect } from 'chai';
import type { CreateFlowParams, Flow, FlowSummary, TaskSummary } from '@tasks/contracts';
import { noopType, startStore, type StoreFixture } from '@tasks/testkit';
import { columnStarts, errorType, tasksctl, expectRefused } from './support/run.js';

describe('tasksctl flow against a real store (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  const run = (...argv: string[]) => tasksctl([...argv, '--url', f.url]);
  const node = (key: string, dependsOn: string[] = []) => ({
    key,
    type: noopType.type,
    payload: { n: 1 },
    dependsOn,
  });
  const createFlow = async (p: CreateFlowParams) => (await f.client.call('flows.create', p)).flow;
  const taskOf = (flow: Flow, key: string) => flow.nodes.find((n) => n.key === key)!.taskId;
  /** Claims a node as an executor would; returns its lease. */
  const claim = async (id: string) =>
    (await f.client.call('tasks.claim', { id, workerId: 'w1', leaseMs: 30_000 })).leaseId!;
  const succeed = async (id: string) =>
    f.client.call('tasks.complete', { id, leaseId: await claim(id), result: { ok: true } });
  const failForGood = async (id: string) =>
    f.client.call('tasks.fail', {
      id,
      leaseId: await claim(id),
      error: { code: 'BOOM', message: 'boom', retryable: false },
    });

  describe('flow get', () => {
    it('when nodes have ended in different ways, then a header line and one aligned row per node with status, dependencies, task id and error code', async () => {
      const flow = await createFlow({
        name: 'diamond',
        nodes: [node('a'), node('b', ['a']), node('c', ['a']), node('d', ['b', 'c'])],
      });
      await succeed(taskOf(flow, 'a'));
      await failForGood(taskOf(flow, 'c')); // fail-fast: d is cancelled, b stays queued

      const { code, stdout, stderr } = await run('flow', 'get', flow.id);
      expect(code, stderr).to.equal(0);
      expect(stderr).to.equal('');
      const [first, header, ...rows] = stdout.trimEnd().split('\n');
      expect(first).to.match(
        new RegExp(
          `^flow ${flow.id} {2}name: diamond {2}status: running {2}policy: fail-fast {2}` +
            `created: \\d{4}-\\d\\d-\\d\\d \\S+Z \\(\\d+\\w+ ago\\)$`,
        ),
      );
      expect(header).to.match(/^KEY\s+STATUS\s+TYPE\s+DEPENDS ON\s+TASK ID\s+ERROR$/);
      const cells = rows.map((r) => r.split(/\s{2,}/));
      expect(cells).to.deep.equal([
        ['a', 'succeeded', 'test.noop', '-', taskOf(flow, 'a')],
        ['b', 'queued', 'test.noop', 'a', taskOf(flow, 'b')],
        ['c', 'failed', 'test.noop', 'a', taskOf(flow, 'c'), 'BOOM'],
        ['d', 'cancelled', 'test.noop', 'b,c', taskOf(flow, 'd'), 'DEPENDENCY_FAILED'],
      ]);
      const starts = columnStarts(header!);
      expect(starts).to.have.length(6);
      expect(rows[2]!.slice(starts[5])).to.equal('BOOM');
      expect(rows[3]!.slice(starts[4])).to.match(new RegExp(`^${taskOf(flow, 'd')} `));
    });

    it('when --json is given, then stdout is the flow exactly as flows.get answers it', async () => {
      const flow = await createFlow({ nodes: [node('a'), node('b', ['a'])], failurePolicy: 'continue' });
      await succeed(taskOf(flow, 'a'));
      const { code, stdout } = await run('flow', 'get', flow.id, '--json');
      expect(code).to.equal(0);
      const shown = JSON.parse(stdout) as Flow;
      expect(shown).to.deep.equal(await f.client.call('flows.get', { id: flow.id }));
      expect(shown).to.include({ id: flow.id, name: null, failurePolicy: 'continue', status: 'running' });
      expect(shown.nodes.map((n) => [n.key, n.status, n.result])).to.deep.equal([
        ['a', 'succeeded', { ok: true }],
        ['b', 'queued', null],
      ]);
      const plain = await run('flow', 'get', flow.id);
      expect(plain.stdout).to.match(/ {2}name: - {2}status: running {2}policy: continue {2}/);
    });

    it('when the flow does not exist, then exit 3 with one FLOW_NOT_FOUND line on stderr', async () => {
      const { code, stdout, stderr } = await run('flow', 'get', 'no-such-flow');
      expect(code).to.equal(3);
      expect(stdout).to.equal('');
      expect(errorType(stderr)).to.equal('FLOW_NOT_FOUND');
      expect(stderr).to.include('no-such-flow');
    });
  });

  describe('flow list', () => {
    it('when flows exist, then newest first with node count and counts by status', async () => {
      const older = await createFlow({ name: 'pair', nodes: [node('a'), node('b', ['a'])] });
      await succeed(taskOf(older, 'a'));
      const newer = await createFlow({ nodes: [node('only')] });
      const { code, stdout, stderr } = await run('flow', 'list');
      expect(code, stderr).to.equal(0);
      const [header, ...rows] = stdout.trimEnd().split('\n');
      expect(header).to.match(/^ID\s+NAME\s+STATUS\s+NODES\s+BY STATUS\s+CREATED$/);
      expect(rows.map((r) => r.split(/\s{2,}/))).to.deep.equal([
        [newer.id, '-', 'running', '1', 'queued 1', rows[0]!.split(/\s{2,}/)[5]],
        [older.id, 'pair', 'running', '2', 'queued 1, succeeded 1', rows[1]!.split(/\s{2,}/)[5]],
      ]);
      for (const row of rows) expect(row).to.match(/ \d+\w+ ago$/);
      expect(stdout).not.to.include('next cursor');
    });

    it('when there are more flows than --limit, then it prints the next cursor, and --cursor gives the rest', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 3; i++) ids.add((await createFlow({ name: `f${i}`, nodes: [node('a')] })).id);
      const first = await run('flow', 'list', '--limit', '2');
      expect(first.code).to.equal(0);
      expect(first.stdout.trimEnd().split('\n')).to.have.length(4); // header, 2 rows, cursor
      const cursor = /^next cursor: (\S+)$/m.exec(first.stdout)?.[1];
      expect(cursor, first.stdout).to.be.a('string');
      expect(first.stdout.trimEnd().split('\n').at(-1)).to.equal(`next cursor: ${cursor}`);
      const second = await run('flow', 'list', '--limit', '2', '--cursor', cursor!, '--json');
      expect(second.code).to.equal(0);
      const page = JSON.parse(second.stdout) as { items: FlowSummary[]; nextCursor: string | null };
      expect(page.items).to.have.length(1);
      expect(page.nextCursor).to.equal(null);
      const shown = [...first.stdout.matchAll(/^(\S+)\s+f\d\s/gm)].map((m) => m[1]);
      expect(shown).to.have.length(2);
      expect(new Set([...shown, page.items[0]!.id])).to.deep.equal(ids);
    });

    it('when --json is given, then stdout is the page as flows.list answers it; with no flows, it says so', async () => {
      expect(await run('flow', 'list')).to.include({ code: 0, stdout: 'no flows\n' });
      const flow = await createFlow({ nodes: [node('a'), node('b', ['a'])] });
      const { code, stdout } = await run('flow', 'list', '--json');
      expect(code).to.equal(0);
      const page = JSON.parse(stdout) as { items: FlowSummary[]; nextCursor: string | null };
      expect(page).to.deep.equal(await f.client.call('flows.list', {}));
      expect(page.items.map((s) => [s.id, s.nodeCount, s.byStatus])).to.deep.equal([
        [flow.id, 2, { queued: 1, waiting: 1 }],
      ]);
    });

    it('when --limit is above what the store allows, then VALIDATION_FAILED, exit 2', async () => {
      expectRefused(await run('flow', 'list', '--limit', '201'), 2, 'VALIDATION_FAILED');
    });
  });

  describe('flow cancel', () => {
    it('when nodes are running and waiting, then they are cancelled by tasksctl, ended ones are left alone, and a repeat cancels nothing', async () => {
      const flow = await createFlow({ nodes: [node('a'), node('b', ['a']), node('c', ['b'])] });
      await succeed(taskOf(flow, 'a'));
      await claim(taskOf(flow, 'b')); // b running, c waiting

      const first = await run('flow', 'cancel', flow.id);
      expect(first).to.deep.equal({
        code: 0,
        stdout: `flow ${flow.id} is cancelled, 2 nodes cancelled\n`,
        stderr: '',
      });
      const stored = await f.client.call('flows.get', { id: flow.id });
      expect(stored.status).to.equal('cancelled');
      expect(stored.cancelledAt).to.be.a('string');
      expect(stored.nodes.map((n) => [n.key, n.status])).to.deep.equal([
        ['a', 'succeeded'],
        ['b', 'cancelled'],
        ['c', 'cancelled'],
      ]);
      for (const key of ['b', 'c']) {
        const task = await f.client.call('tasks.get', { id: taskOf(flow, key) });
        expect(task.history.at(-1)?.by, key).to.equal('tasksctl');
      }

      const again = await run('flow', 'cancel', flow.id);
      expect(again).to.deep.equal({
        code: 0,
        stdout: `flow ${flow.id} is cancelled, 0 nodes cancelled\n`,
        stderr: '',
      });
    });

    it('when --json is given, then stdout is {flow, cancelled} with the nodes this call cancelled', async () => {
      const flow = await createFlow({ nodes: [node('a'), node('b', ['a'])] });
      const { code, stdout } = await run('flow', 'cancel', flow.id, '--json');
      expect(code).to.equal(0);
      const answer = JSON.parse(stdout) as { flow: Flow; cancelled: TaskSummary[] };
      expect(answer.flow).to.deep.equal(await f.client.call('flows.get', { id: flow.id }));
      expect(answer.flow.status).to.equal('cancelled');
      expect(answer.cancelled.map((t) => [t.id, t.status]).sort()).to.deep.equal([
        [taskOf(flow, 'a'), 'cancelled'],
        [taskOf(flow, 'b'), 'cancelled'],
      ]);
    });

    it('when the flow does not exist, then exit 3 with one FLOW_NOT_FOUND line', async () => {
      expectRefused(await run('flow', 'cancel', 'no-such-flow'), 3, 'FLOW_NOT_FOUND');
    });
  });
});

describe('tasksctl flow usage', () => {
  it('when flow is given no subcommand, then its help goes to stderr and exit 2', async () => {
    const { code, stdout, stderr } = await tasksctl(['flow']);
    expect(code).to.equal(2);
    expect(stdout).to.equal('');
    expect(stderr).to.include('Usage: tasksctl flow');
    for (const sub of ['get', 'list', 'cancel']) expect(stderr).to.match(new RegExp(`^ {2}${sub} `, 'm'));
  });

  const usage: [string, string[]][] = [
    ['an unknown subcommand', ['flow', 'frobnicate']],
    ['a missing flow id', ['flow', 'get']],
    ['a limit that is not a positive integer', ['flow', 'list', '--limit', '0']],
    ['an extra argument', ['flow', 'cancel', 'a', 'b']],
  ];
  for (const [what, argv] of usage) {
    it(`when given ${what}, then exit 2 with one USAGE line and nothing on stdout`, async () => {
      expectRefused(await tasksctl(argv), 2, 'USAGE');
    });
  }

  for (const sub of ['get', 'list', 'cancel']) {
    it(`when flow ${sub} --help is given, then it prints that subcommand's usage, exit 0`, async () => {
      const { code, stdout } = await tasksctl(['flow', sub, '--help']);
      expect(code).to.equal(0);
      expect(stdout).to.include(`Usage: tasksctl flow ${sub}`);
      expect(stdout).to.include('--url <url>');
    });
  }

  it('when --help is given, then the exit codes name FLOW_NOT_FOUND under 3', async () => {
    const { stdout } = await tasksctl(['--help']);
    expect(stdout).to.match(
      /^ {2}3 {2}not found \(TASK_NOT_FOUND, FLOW_NOT_FOUND, TASK_TYPE_NOT_FOUND, SCHEDULE_NOT_FOUND\)$/m,
    );
    expect(stdout).to.match(/^ {2}flow /m);
  });
});
