import { expect } from 'chai';
import type { HistoryEntry } from '@tasks/contracts';
import { noopType, startStore, type StoreFixture } from '@tasks/testkit';
import { errorType, tasksctl } from './support/run.js';

describe('tasksctl history against a real store (integration)', () => {
  let f: StoreFixture;
  let id: string;
  const cycles = 20; // 61 changes: more than the task document carries
  before(async () => {
    f = await startStore();
    id = (await f.client.call('tasks.create', { type: noopType.type, payload: { n: 1 } })).task.id;
    for (let n = 0; n < cycles; n++) {
      const leaseId = `lease-${n}`;
      await f.client.call('tasks.claim', { id, workerId: `w${n}`, leaseMs: 30_000, leaseId });
      await f.client.call('tasks.fail', {
        id,
        leaseId,
        error: { code: 'BOOM', message: `n${n}`, retryable: false },
      });
      await f.client.call('tasks.retry', { id, by: `op${n}` });
    }
  });
  after(() => f.close());

  const run = (...argv: string[]) => tasksctl([...argv, '--url', f.url]);

  it('when run without --limit, then it prints every change, oldest first, one line each', async () => {
    const { code, stdout, stderr } = await run('history', id);
    expect(code).to.equal(0);
    expect(stderr).to.equal('');
    const lines = stdout.trimEnd().split('\n');
    expect(lines).to.have.length(1 + 3 * cycles);
    expect(lines[0]).to.match(/ queued by create, attempt 0$/);
    expect(lines[1]).to.match(/ running by w0, attempt 1$/);
    expect(lines[2]).to.match(/ failed by w0, attempt 1 {2}BOOM: n0$/);
    expect(lines.at(-1)).to.match(/ queued by op19, attempt 0$/);
    expect(stdout).not.to.include('next cursor');
  });

  it('when run with --limit, then it prints one page and its cursor, and --cursor --json continues', async () => {
    const first = await run('history', id, '--limit', '40');
    expect(first.code).to.equal(0);
    const cursor = /^next cursor: (\S+)$/m.exec(first.stdout)?.[1];
    expect(cursor, first.stdout).to.be.a('string');
    expect(first.stdout.trimEnd().split('\n')).to.have.length(41);
    const rest = await run('history', id, '--limit', '40', '--cursor', cursor!, '--json');
    expect(rest.code).to.equal(0);
    const page = JSON.parse(rest.stdout) as { items: HistoryEntry[]; nextCursor: string | null };
    expect(page.items).to.have.length(1 + 3 * cycles - 40);
    expect(page.nextCursor).to.equal(null);
    const all = JSON.parse((await run('history', id, '--json')).stdout) as { items: HistoryEntry[] };
    expect(all.items.slice(40)).to.deep.equal(page.items);
  });

  it('when the task carries only its latest changes, then get says how many there are and how to see all', async () => {
    const { stdout } = await run('get', id);
    expect(stdout).to.match(
      new RegExp(`^history \\(the latest \\d+ of ${1 + 3 * cycles}; all: tasksctl history ${id}\\):$`, 'm'),
    );
  });

  it('when the task is unknown or the cursor forged, then one error line and exit 3 or 2', async () => {
    const missing = await run('history', 'no-such-task');
    expect([missing.code, errorType(missing.stderr)]).to.deep.equal([3, 'TASK_NOT_FOUND']);
    const forged = await run('history', id, '--cursor', 'bm9wZQ');
    expect([forged.code, errorType(forged.stderr)]).to.deep.equal([2, 'VALIDATION_FAILED']);
    const bad = await run('history', id, '--limit', '0');
    expect(bad.code).to.equal(2);
  });
});
