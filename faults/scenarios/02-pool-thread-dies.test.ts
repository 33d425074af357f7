import { expect } from 'chai';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { finishedCount, metric, scenario, until } from '../support/scenario.js';

describe('fault 2: a Piscina thread dies mid-task', () => {
  scenario(
    'pool thread ends mid-task (process.exit in the thread; heap limit exceeded)',
    {
      load: '1,000 mixed cpu/io tasks + 4 thread-killing tasks, 2 executors with 2 pool threads each',
      fault: '2 tasks call process.exit in their thread, 2 allocate past CPU_WORKER_MAX_HEAP_MB=64',
    },
    { executorEnv: { CPU_WORKERS: '2', CPU_WORKER_MAX_HEAP_MB: '64' } },
    async ({ sys, node, load, runLog }) => {
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      await until('200 tasks finished', async () => (await finishedCount(sys)) >= 200, 180_000);
      const killers: string[] = [];
      for (const how of ['exit', 'oom', 'exit', 'oom']) {
        const r = await fetch(`${sys.gatewayUrl}/v1/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'faults.thread-death', payload: { how } }),
        });
        expect(r.status).to.equal(201);
        const t = (await r.json()) as { id: string };
        killers.push(t.id);
        load.accepted.push(t.id);
      }
      await submitting;
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog, {
        mayFail: new Set(killers),
      });
      const res = await fetch(`${sys.gatewayUrl}/v1/tasks?type=faults.thread-death&limit=10`);
      const dead = (
        (await res.json()) as { items: { status: string; attempts: number; error: { message: string } }[] }
      ).items;
      expect(dead.map((t) => [t.status, t.attempts])).to.deep.equal(killers.map(() => ['failed', 2]));
      const threads: number[] = [];
      for (const ex of ['executor-1', 'executor-2']) {
        await until(
          `${ex} pool back to 2 threads`,
          async () => (await metric(sys.urlOf(ex), 'executor_cpu_pool_threads')) === 2,
          10_000,
        );
        threads.push(await metric(sys.urlOf(ex), 'executor_cpu_pool_threads'));
        expect(sys.children.get(ex)!.exitCode, `${ex} still running`).to.equal(null);
      }
      const errors = [...new Set(dead.map((t) => t.error.message.slice(0, 60)))].join(' / ');
      return `${summary}; the 4 thread-killing tasks failed after 2 attempts each (${errors}); pools back to ${threads.join(' and ')} threads, executors alive`;
    },
  );
});
