import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { TaskStoreClient } from '@tasks/contracts';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { FIXTURE_TASKS, finishedCount, scenario, until } from '../support/scenario.js';

// The executor's own fixtures, one misbehaviour per module (io and cpu variants of each).
const MISBEHAVING = fileURLToPath(
  new URL('../../executor-service/test/fixtures/misbehaving', import.meta.url),
);

/** Each misbehaving type, its payload, and how its task must end. */
const KINDS: { type: string; payload: Record<string, unknown>; ends: string }[] = [
  ...['', 'cpu-'].flatMap((k) => [
    { type: `misbehaving.${k}progress-bad-args`, payload: { ms: 1_500 }, ends: 'succeeded' },
    { type: `misbehaving.${k}throws-non-error`, payload: { what: 'string' }, ends: 'NON_ERROR_THROWN' },
    { type: `misbehaving.${k}throws-non-error`, payload: { what: 'proxy' }, ends: 'NON_ERROR_THROWN' },
    { type: `misbehaving.${k}returns-bigint`, payload: {}, ends: 'RESULT_NOT_JSON' },
    { type: `misbehaving.${k}returns-cycle`, payload: {}, ends: 'RESULT_NOT_JSON' },
    { type: `misbehaving.${k}returns-function`, payload: {}, ends: 'RESULT_NOT_JSON' },
    { type: `misbehaving.${k}timer-throws`, payload: { ms: 30_000 }, ends: 'TASK_CRASHED' },
    { type: `misbehaving.${k}unhandled-rejection`, payload: { ms: 30_000 }, ends: 'TASK_CRASHED' },
    { type: `misbehaving.${k}late-timer-throws`, payload: {}, ends: 'succeeded' },
  ]),
];
const COPIES = 3;

describe('fault 13: task code that misbehaves', () => {
  scenario(
    'task code misbehaves: bad progress values, non-Error throws, results that are not JSON, crashes from timers and unhandled rejections (io and cpu)',
    {
      load: `1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors with 2 pool threads each, + ${KINDS.length * COPIES} misbehaving tasks`,
      fault: `${COPIES} of each of ${KINDS.length} misbehaving kinds, io and cpu, POSTed in the middle of the load`,
    },
    (defer) => {
      // TASKS_DIR is one directory: the suite's fixtures and the misbehaving ones, linked.
      const dir = mkdtempSync(join(tmpdir(), 'faults-tasks-'));
      defer(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
      for (const from of [FIXTURE_TASKS, MISBEHAVING])
        for (const f of readdirSync(from)) symlinkSync(join(from, f), join(dir, f));
      return Promise.resolve({ executorEnv: { TASKS_DIR: dir, CPU_WORKERS: '2' } });
    },
    async ({ sys, node, load, runLog }) => {
      const pids = new Map(
        [...sys.children].filter(([n]) => n.startsWith('executor-')).map(([n, c]) => [n, c.pid]),
      );
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      await until('200 tasks finished', async () => (await finishedCount(sys)) >= 200, 180_000);
      const expected = new Map<string, string>();
      for (let copy = 0; copy < COPIES; copy++)
        for (const k of KINDS) {
          const r = await fetch(`${sys.gatewayUrl}/v1/tasks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: k.type, payload: k.payload }),
          });
          expect(r.status, k.type).to.equal(201);
          const { id } = (await r.json()) as { id: string };
          load.accepted.push(id);
          expected.set(id, k.ends);
        }
      await submitting;
      const mayFail = new Set([...expected].filter(([, ends]) => ends !== 'succeeded').map(([id]) => id));
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog, { mayFail });

      const store = new TaskStoreClient({ url: sys.storeUrl, timeoutMs: 10_000 });
      const ended = new Map<string, number>();
      for (const [id, ends] of expected) {
        const t = await store.call('tasks.get', { id });
        const got = t.status === 'succeeded' ? 'succeeded' : `${t.status} ${t.error?.code}`;
        expect(got, `${t.type} ${JSON.stringify(t.payload)}`).to.equal(
          ends === 'succeeded' ? ends : `failed ${ends}`,
        );
        expect(t.error?.message ?? '', `${t.type}: the error message is capped`).to.have.length.at.most(
          2_000,
        );
        ended.set(ends, (ended.get(ends) ?? 0) + 1);
      }
      for (const [name, pid] of pids) {
        expect(sys.children.get(name)!.pid, `${name} is the same process`).to.equal(pid);
        expect(sys.children.get(name)!.exitCode, `${name} still running`).to.equal(null);
      }
      const codes = [...ended].map(([code, n]) => `${n} ${code}`).join(', ');
      return `${summary}; the ${expected.size} misbehaving tasks ended as expected (${codes}); both executors alive, same pids`;
    },
  );
});
