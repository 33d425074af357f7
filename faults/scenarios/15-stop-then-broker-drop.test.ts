import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import amqplib from 'amqplib';
import { expect } from 'chai';
import { TaskStoreClient, topology } from '@tasks/contracts';
import { allTasks, checkInvariants } from '../support/checks.js';
import { freshRunsOf, submit, type Load } from '../support/load.js';
import { finishedCount, scenario, sleep, until } from '../support/scenario.js';

const STOPPING = 'stopping-executor';
const GRACE_MS = 20_000;
// rabbitmqctl takes seconds to start its Erlang VM: the runs must outlast SIGTERM, drop and reconnect.
const LONG_MS = 15_000;

/** The executor's log lines (pino, one JSON object a line). */
function logLines(logFile: string): Array<Record<string, unknown> & { msg?: string }> {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown> & { msg?: string });
}

/** Whether the executor's log has a line with `msg` after one with `after`. */
function logged(logFile: string, msg: string, after?: string): boolean {
  const msgs = logLines(logFile).map((l) => l.msg);
  const from = after === undefined ? -1 : msgs.indexOf(after);
  if (after !== undefined && from < 0) return false;
  return msgs.indexOf(msg, from + 1) >= 0;
}

describe('fault 15: SIGTERM to an executor, then a broker connection drop during its grace', () => {
  scenario(
    'SIGTERM to an executor followed by a broker connection drop',
    {
      load: `1,000 mixed cpu/io tasks, 16 clients POSTing, 2 executors (the stopping one with SHUTDOWN_GRACE_MS=${GRACE_MS}); 40 io tasks of ${LONG_MS / 1000} s among the load`,
      fault:
        'SIGTERM an executor while it runs long io tasks, then `rabbitmqctl close_all_connections` during its shutdown grace',
    },
    { executors: 1 },
    async ({ sys, node, load, runLog, logDir }) => {
      const name = await sys.addExecutor({
        WORKER_ID: STOPPING,
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        LOG_LEVEL: 'info', // its log says when it stopped and when it reconnected
      });
      const logFile = join(logDir, `${name}.log`);
      const store = new TaskStoreClient({ url: sys.storeUrl, timeoutMs: 10_000 });
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog });
      await until('200 tasks finished', async () => (await finishedCount(sys)) >= 200, 180_000);
      // Runs that outlast the drop, so that the stopping executor is still alive when it reconnects.
      const long: Load = { ...load, accepted: [] };
      await submit(sys.gatewayUrl, 40, long, { runLog, ioMs: LONG_MS });
      load.accepted.push(...long.accepted);
      const longIds = new Set(long.accepted);
      let held: string[] = [];
      await until(
        'the stopping executor in the middle of long runs',
        async () => (held = await freshRunsOf(store, longIds, STOPPING)).length >= 2,
        60_000,
      );

      const child = sys.children.get(name)!;
      let exitAt: number | undefined;
      child.once('exit', () => (exitAt = Date.now()));
      const alive = () => exitAt === undefined;
      const termAt = Date.now();
      child.kill('SIGTERM');
      await until('the executor to begin its shutdown', () => logged(logFile, 'shutting down'), 10_000);
      // Claims it had sent and not seen answered when the signal came: the store may record those
      // after the drop (under this load an answer can take a while), and nothing else.
      const stoppingLine = logLines(logFile).find((l) => l.msg === 'shutting down')!;
      const claimsInFlight = stoppingLine.claimsInFlight;
      expect(claimsInFlight, 'claimsInFlight on the shutting-down line').to.be.a('number');
      // The drop comes after the shutdown began, so the reconnect happens while it is stopping.
      const dropAt = Date.now();
      await node.closeAllConnections();
      const reconnected = () => logged(logFile, 'broker connected', 'broker disconnected; reconnecting');
      await until('the stopping executor to reconnect or exit', () => reconnected() || !alive(), GRACE_MS);
      expect(reconnected(), 'the stopping executor reconnected before it exited').to.equal(true);

      // While it lives on after the reconnect, the only consumer of each type's queue is the other
      // executor: a stopped executor that consumed again would show up as a second one.
      const { items: types } = await store.call('taskTypes.list', {});
      const conn = await amqplib.connect(node.url);
      const ch = await conn.createChannel();
      let mostConsumers = 0;
      let samples = 0;
      while (alive() && Date.now() - termAt < GRACE_MS + 10_000) {
        for (const { type } of types) {
          const { consumerCount } = await ch.checkQueue(topology(sys.prefix).typeQueue(type));
          mostConsumers = Math.max(mostConsumers, consumerCount);
        }
        samples++;
        await sleep(100);
      }
      await conn.close();
      expect(alive(), 'the stopping executor still running at its grace + 10 s').to.equal(false);
      expect(child.exitCode ?? child.signalCode, 'exit code of the stopping executor').to.equal(0);
      const exitMs = exitAt! - termAt;
      expect(samples, 'consumer counts sampled while it lived after the reconnect').to.be.greaterThan(0);
      expect(mostConsumers, 'consumers of a type queue after the reconnect').to.equal(1);

      // The store's record: after the drop, no claim by the stopping executor beyond those it had
      // in flight at the signal (the drop follows the shutting-down line, after which it sends
      // none), and the long runs it held finished during the grace, across the drop.
      await submitting;
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      const tasks = await allTasks(store);
      const claims = (from: number) =>
        [...tasks.values()].flatMap((t) =>
          t.history.filter((h) => h.status === 'running' && h.by === STOPPING && Date.parse(h.at) > from),
        ).length;
      expect(claims(dropAt), 'claims by the stopping executor after the drop').to.be.at.most(
        claimsInFlight as number,
      );
      const finishedByIt = held.filter((id) =>
        tasks
          .get(id)!
          .history.some((h) => h.status === 'succeeded' && h.by === STOPPING && Date.parse(h.at) > dropAt),
      );
      expect(finishedByIt, 'long runs it held, finished by it after the drop').to.have.members(held);
      return (
        `exited 0 ${(exitMs / 1000).toFixed(1)} s after SIGTERM; reconnected during its grace and consumed nothing ` +
        `(1 consumer per type queue, the other executor's, in ${samples} samples after the reconnect; ${claims(termAt) - claims(dropAt)} claims recorded ` +
        `between SIGTERM and the drop, ${claims(dropAt)} after it, of the ${String(claimsInFlight)} in flight at the signal); the ${held.length} long runs it held finished during the grace; ${summary}`
      );
    },
  );
});
