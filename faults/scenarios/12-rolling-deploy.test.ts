import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Stats, Task } from '@tasks/contracts';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { FIXTURE_TASKS, scenario, until } from '../support/scenario.js';

const WORD_COUNT = fileURLToPath(new URL('../../examples/tasks/word-count.task.mjs', import.meta.url));

/** A TASKS_DIR with the suite's fixtures plus the new type: the executors of the new version. */
function newVersionTasksDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'faults-new-version-'));
  for (const f of ['record.ts', 'thread-death.ts']) symlinkSync(join(FIXTURE_TASKS, f), join(dir, f));
  symlinkSync(WORD_COUNT, join(dir, 'word-count.task.mjs'));
  return dir;
}

async function rpc<T>(storeUrl: string, method: string, params: object): Promise<T> {
  const res = await fetch(storeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return ((await res.json()) as { result: T }).result;
}

describe('fault 12: a rolling deploy of a new task type', () => {
  scenario(
    'rolling deploy of a new task type',
    {
      load: '1,000 mixed cpu/io tasks, 2 executors of the old version; 200 tasks of the new type',
      fault:
        'one executor of the new version started, 100 tasks of its new type posted, then it is stopped (SIGTERM) mid-way; 100 more posted with no executor for the type; another new-version executor started',
    },
    {},
    async ({ sys, node, load, runLog }) => {
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      const tasksDir = newVersionTasksDir();
      const first = await sys.addExecutor({ TASKS_DIR: tasksDir });
      const post = async (n: number): Promise<string[]> => {
        const res = await fetch(`${sys.gatewayUrl}/v1/tasks/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            tasks: Array.from({ length: n }, (_, i) => ({
              type: 'text.word-count',
              payload: { text: `rolling deploy ${i} `.repeat(50) },
            })),
          }),
        });
        expect(res.status, 'the batch of the new type is accepted').to.equal(201);
        return ((await res.json()) as { items: Task[] }).items.map((t) => t.id);
      };
      const ids = await post(100);
      // The old executors receive none of these: the type's queue is consumed by the new one only.
      sys.children.get(first)!.kill('SIGTERM');
      expect(await sys.exited(first)).to.equal(0);
      ids.push(...(await post(100)));

      // With no executor serving the type, its tasks wait, visibly, and none is dead-lettered.
      const stats = await rpc<Stats>(sys.storeUrl, 'tasks.stats', {});
      const waiting = stats.unservedTypes.find((u) => u.type === 'text.word-count');
      expect(waiting, 'stats name the type no executor serves').to.not.equal(undefined);
      expect(waiting!.queued).to.be.greaterThan(0);

      await sys.addExecutor({ TASKS_DIR: tasksDir });
      await submitting;
      expect(load.accepted, 'every POST accepted').to.have.length(1_000);
      await until(
        'every task of the new type succeeded',
        async () => {
          const s = await rpc<Stats>(sys.storeUrl, 'tasks.stats', {});
          return (s.byType['text.word-count']?.succeeded ?? 0) === ids.length;
        },
        120_000,
      );
      const dead = await rpc<{ count: number }>(sys.storeUrl, 'deadLetters.list', {});
      expect(dead.count, 'nothing dead-lettered').to.equal(0);
      load.accepted.push(...ids);
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      return `${summary}; ${waiting!.queued} of the new type waited with no executor for it (shown in stats), then all ${ids.length} succeeded; 0 dead letters`;
    },
  );
});
