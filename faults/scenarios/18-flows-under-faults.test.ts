import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { MongoClient, type Db } from 'mongodb';
import type { Flow, FlowNodeSpec, Task } from '@tasks/contracts';
import { api, type RunningSystem, testMongoUrl } from '@tasks/testkit';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { scenario, sleep, until } from '../support/scenario.js';

const FLOWS_PER_WAVE = 15;

/** The primes ≤ n (what a `primes.count` node must return). */
function primesUpTo(n: number): number {
  const composite = new Uint8Array(n + 1);
  let count = 0;
  for (let i = 2; i <= n; i++) {
    if (composite[i]) continue;
    count++;
    for (let j = i * i; j <= n; j += i) composite[j] = 1;
  }
  return count;
}

/** Flow `i`: a diamond, a fan-in of five `primes.count` into `collect`, or a chain of four. */
function flowSpec(i: number): { name: string; nodes: FlowNodeSpec[] } {
  const upTo = (base: number) => base + i * 97;
  if (i % 3 === 0) {
    return {
      name: `diamond ${i}`,
      nodes: [
        { key: 'a', type: 'sleep', payload: { ms: 600 + (i % 4) * 100 } },
        { key: 'b', type: 'primes.count', payload: { upTo: upTo(15_000) }, dependsOn: ['a'] },
        { key: 'c', type: 'sleep', payload: { ms: 800 }, dependsOn: ['a'] },
        { key: 'd', type: 'collect', payload: {}, dependsOn: ['b', 'c'] },
      ],
    };
  }
  if (i % 3 === 1) {
    const parts = [1, 2, 3, 4, 5].map((k) => ({
      key: `p${k}`,
      type: 'primes.count',
      payload: { upTo: upTo(k * 8_000) },
    }));
    return {
      name: `fan-in ${i}`,
      nodes: [...parts, { key: 'all', type: 'collect', payload: {}, dependsOn: parts.map((p) => p.key) }],
    };
  }
  return {
    name: `chain ${i}`,
    nodes: [
      { key: 's1', type: 'sleep', payload: { ms: 1_000 } },
      { key: 's2', type: 'noop', payload: { step: 2 }, dependsOn: ['s1'] },
      { key: 's3', type: 'primes.count', payload: { upTo: upTo(12_000) }, dependsOn: ['s2'] },
      { key: 's4', type: 'collect', payload: {}, dependsOn: ['s3'] },
    ],
  };
}

/** Posts flows `from`..`to-1`; every one must be created (no fault is under way). */
async function postFlows(sys: RunningSystem, from: number, to: number): Promise<Flow[]> {
  return Promise.all(
    Array.from({ length: to - from }, async (_, j) => {
      const res = await api(sys.gatewayUrl, '/v1/flows', { method: 'POST', json: flowSpec(from + j) });
      expect(res.status, `POST /v1/flows (flow ${from + j}): ${JSON.stringify(res.body)}`).to.equal(201);
      return res.body as Flow;
    }),
  );
}

async function getFlow(sys: RunningSystem, id: string): Promise<Flow> {
  const res = await api(sys.gatewayUrl, `/v1/flows/${id}`);
  if (res.status !== 200) throw new Error(`GET /v1/flows/${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Flow;
}

/** Flows as they stand now; a flow the gateway could not answer for (store away) is left out. */
async function flowsNow(sys: RunningSystem, ids: string[]): Promise<Flow[]> {
  const got = await Promise.all(ids.map((id) => getFlow(sys, id).catch(() => undefined)));
  return got.filter((f): f is Flow => f !== undefined);
}

/** The store's database (its name is private to the system): the e2e database holding `flowId`. */
async function storeDb(mongo: MongoClient, flowId: string): Promise<Db> {
  const { databases } = await mongo.db('admin').admin().listDatabases({ nameOnly: true });
  for (const { name } of databases) {
    if (!name.startsWith('e2e_')) continue;
    if (await mongo.db(name).collection<{ _id: string }>('flows').findOne({ _id: flowId }))
      return mongo.db(name);
  }
  throw new Error(`no e2e database holds flow ${flowId}`);
}

const historyOf = (t: Task) => t.history.map((h) => `${h.status}@${h.at}#${h.attempt}`).join(' → ');

describe('fault 18: flows under faults', () => {
  scenario(
    'flows: an executor and the store SIGKILLed while dependencies finish',
    {
      load: `1,000 mixed cpu/io tasks, 16 clients POSTing (idempotent), 2 executors; ${2 * FLOWS_PER_WAVE} flows (diamonds, fan-ins of 5 primes.count into collect, chains of 4) in two waves`,
      fault:
        'SIGKILL an executor while it runs a flow node (10 nodes done), start another; second wave of flows; SIGKILL the store once that wave is part way (dependencies finishing), restart it at once',
    },
    {},
    async ({ sys, node, load, runLog, logDir }) => {
      const t0 = Date.now();
      const submitting = submit(sys.gatewayUrl, 1_000, load, { runLog, idempotent: true });
      const flows = await postFlows(sys, 0, FLOWS_PER_WAVE);

      // Mid-flight: some flow nodes done, and one running on executor-1 (its worker id holds its pid).
      const pid = sys.children.get('executor-1')!.pid!;
      const firstIds = flows.map((f) => f.id);
      let killedNode: Task | undefined;
      await until(
        '10 flow nodes succeeded and one running on executor-1',
        async () => {
          const nodes = (await flowsNow(sys, firstIds)).flatMap((f) => f.nodes);
          if (nodes.filter((n) => n.status === 'succeeded').length < 10) return false;
          for (const n of nodes.filter((n) => n.status === 'running')) {
            const t = (await api(sys.gatewayUrl, `/v1/tasks/${n.taskId}`)).body as Task;
            if (t.status === 'running' && t.leaseOwner?.includes(`-${pid}-`)) killedNode = t;
            if (killedNode) return true;
          }
          return false;
        },
        120_000,
      );
      sys.children.get('executor-1')!.kill('SIGKILL');
      expect(await sys.exited('executor-1')).to.equal('SIGKILL');
      const executorKilledAt = Date.now() - t0;
      await sys.addExecutor();

      const second = await postFlows(sys, FLOWS_PER_WAVE, 2 * FLOWS_PER_WAVE);
      flows.push(...second);
      const secondIds = second.map((f) => f.id);
      const secondNodes = second.reduce((n, f) => n + f.nodes.length, 0);
      // Part way: a quarter of the second wave's nodes done, and some of its nodes still waiting.
      let atKill = { succeeded: 0, waiting: 0 };
      await until(
        "a quarter of the second wave's nodes succeeded, others waiting on them",
        async () => {
          const nodes = (await flowsNow(sys, secondIds)).flatMap((f) => f.nodes);
          atKill = {
            succeeded: nodes.filter((n) => n.status === 'succeeded').length,
            waiting: nodes.filter((n) => n.status === 'waiting').length,
          };
          return atKill.succeeded >= secondNodes / 4 && atKill.waiting > 0;
        },
        120_000,
      );
      sys.children.get('store')!.kill('SIGKILL');
      expect(await sys.exited('store')).to.equal('SIGKILL');
      const storeKilledAt = Date.now() - t0;
      await sys.restart('store', { LOG_LEVEL: 'info' });

      const mongo = new MongoClient(testMongoUrl());
      try {
        const db = await storeDb(mongo, flows[0]!.id);
        const wakeups = db.collection('flow_wakeups');
        // Just after the restart: what the killed store left (the flow keeper takes entries older than
        // 5 s), and the changes of this store under way.
        const leftByCrash = await wakeups.countDocuments({});

        await submitting;
        expect(load.accepted, 'every POST accepted (idempotent retries)').to.have.length(1_000);

        const ids = flows.map((f) => f.id);
        let running: string[] = [];
        const endMs = await until(
          `every flow ended`,
          async () => {
            const now = await Promise.all(ids.map((id) => getFlow(sys, id).catch(() => undefined)));
            running = ids.filter((_, i) => now[i]?.status === undefined || now[i].status === 'running');
            if (running.length > 0) await sleep(400);
            return running.length === 0;
          },
          180_000,
        ).catch(async (err: unknown) => {
          const stuck = await flowsNow(sys, running.slice(0, 3));
          throw new Error(
            `${String(err)}; ${running.length} still running, e.g. ${JSON.stringify(stuck.map((f) => ({ id: f.id, nodes: f.nodes.map((n) => [n.key, n.status]) })))}`,
          );
        });

        const ended = await Promise.all(ids.map((id) => getFlow(sys, id)));
        expect(
          ended
            .filter((f) => f.status !== 'succeeded')
            .map((f) => ({ id: f.id, status: f.status, nodes: f.nodes })),
          'flows that did not succeed',
        ).to.deep.equal([]);

        let nodeCount = 0;
        let rerun = 0;
        let killedAttempts = 0;
        for (const flow of ended) {
          const tasks = new Map<string, Task>();
          for (const n of flow.nodes) {
            const res = await api(sys.gatewayUrl, `/v1/tasks/${n.taskId}`);
            expect(res.status, `GET /v1/tasks/${n.taskId}`).to.equal(200);
            tasks.set(n.key, res.body as Task);
          }
          const byKey = new Map(flow.nodes.map((n) => [n.key, n]));
          for (const n of flow.nodes) {
            nodeCount++;
            const t = tasks.get(n.key)!;
            const where = `node ${n.taskId} (${flow.name}): ${historyOf(t)}`;
            expect(t.status, `status of ${where}`).to.equal('succeeded');
            expect(
              t.history.filter((h) => h.status === 'succeeded'),
              `successes of ${where}`,
            ).to.have.length(1);
            // Waiting once, from its creation: never reopened.
            expect(
              t.history.filter((h) => h.status === 'waiting'),
              `waiting entries of ${where}`,
            ).to.have.length(1);
            if (t.attempts > 1) rerun++;
            if (t.id === killedNode!.id) killedAttempts = t.attempts;
            if (t.type === 'primes.count')
              expect(t.result, `result of ${where}`).to.deep.equal({
                count: primesUpTo((t.payload as { upTo: number }).upTo),
              });
            if (n.dependsOn.length === 0) continue;
            // It ran only once every dependency had succeeded, with their results.
            const firstRun = t.history.find((h) => h.status === 'running');
            expect(firstRun, `a running entry in ${where}`).to.not.equal(undefined);
            for (const key of n.dependsOn) {
              const dep = tasks.get(key)!;
              const depSucceeded = dep.history.find((h) => h.status === 'succeeded')!;
              expect(
                Date.parse(firstRun!.at),
                `${where} ran before its dependency ${dep.id} succeeded (${historyOf(dep)})`,
              ).to.be.at.least(Date.parse(depSucceeded.at));
              expect(t.dependencyResults?.[key], `dependencyResults.${key} of ${where}`).to.deep.equal({
                taskId: dep.id,
                status: 'succeeded',
                result: dep.result,
                error: null,
              });
            }
            if (t.type === 'collect') {
              const want = Object.fromEntries(n.dependsOn.map((k) => [k, byKey.get(k)!.result]));
              expect(n.result, `collect result of ${where}`).to.deep.equal(want);
              expect(t.result, `collect task result of ${where}`).to.deep.equal(want);
            }
          }
        }

        // The nodes are tasks too: held to the same rules as the load.
        load.accepted.push(...ended.flatMap((f) => f.nodes.map((n) => n.taskId)));
        const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
        const wakeupsMs = await until(
          'flow_wakeups empty',
          async () => {
            if ((await wakeups.countDocuments({})) === 0) return true;
            await sleep(400);
            return false;
          },
          30_000,
        ).catch(async (err: unknown) => {
          throw new Error(`${String(err)}: ${JSON.stringify(await wakeups.find({}).limit(5).toArray())}`);
        });
        const keeperDone = readFileSync(join(logDir, 'store.log'), 'utf8')
          .split('\n')
          .filter((l) => l.includes('"flow wakeups finished"'))
          .reduce((n, l) => n + ((JSON.parse(l) as { done?: number }).done ?? 0), 0);
        return (
          `${flows.length} flows (${nodeCount} nodes) → ${flows.length} succeeded, every node succeeded once, after its dependencies, ` +
          `collect results equal their dependencies' results; executor killed at ${(executorKilledAt / 1000).toFixed(1)} s while it ran node ${killedNode!.flowKey} (${killedNode!.type}, it took ${killedAttempts} attempts), ` +
          `store at ${(storeKilledAt / 1000).toFixed(1)} s (second wave: ${atKill.succeeded} of ${secondNodes} nodes succeeded, ${atKill.waiting} waiting); ` +
          `${rerun} nodes took more than one attempt; ${leftByCrash} wakeup entr${leftByCrash === 1 ? 'y' : 'ies'} in flow_wakeups just after the store's restart, ${keeperDone} finished by the flow keeper, ` +
          `flow_wakeups empty ${(wakeupsMs / 1000).toFixed(1)} s after the invariants; every flow ended ${(endMs / 1000).toFixed(1)} s after the background load was in; ${summary}`
        );
      } finally {
        await mongo.close();
      }
    },
  );
});
