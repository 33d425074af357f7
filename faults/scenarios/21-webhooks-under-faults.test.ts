/**
 * Completion webhooks under faults (docs/webhooks.md): an executor SIGKILLed while it sends
 * deliveries and the receiver refusing connections for a while. Every terminal task's delivery
 * must arrive at least once with a valid signature, and the ones whose receiver never accepts
 * are given up and visible.
 */
import { expect } from 'chai';
import type { Task, WebhookDelivery } from '@tasks/contracts';
import { api, type RunningSystem } from '@tasks/testkit';
import { startReceiver, type WebhookReceiver } from '@tasks/testkit';
import { checkInvariants, settle } from '../support/checks.js';
import { submit } from '../support/load.js';
import { scenario, sleep, until } from '../support/scenario.js';

const SECRET = 'fault-scenario-webhook-secret-0123456789';
const TASKS = 200;
const GONE = 10;
const MAX_ATTEMPTS = 6;
const WEBHOOK_ENV = { WEBHOOK_SECRET: SECRET, WEBHOOK_POLL_MS: '200', WEBHOOK_TIMEOUT_MS: '2000' };

let receiver: WebhookReceiver;
/** While true the receiver drops every connection (as if it were down). */
let down = false;

const postTask = (sys: RunningSystem, key: string, url: string) =>
  api(sys.gatewayUrl, '/v1/tasks', {
    method: 'POST',
    headers: { 'idempotency-key': key },
    json: { type: 'noop', payload: {}, webhook: { url } },
  });

async function deliveriesOf(sys: RunningSystem, taskId: string): Promise<WebhookDelivery[]> {
  const res = await api(sys.gatewayUrl, `/v1/tasks/${taskId}/webhooks`);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return (res.body as { items: WebhookDelivery[] }).items;
}

describe('fault 21: webhooks under faults', () => {
  scenario(
    'webhooks: an executor SIGKILLed while sending, the receiver down for 4 s',
    {
      load: `${TASKS} mixed tasks with a webhook, 16 clients POSTing (idempotent), 2 executors sending webhooks; ${GONE} noop tasks whose receiver always answers 410`,
      fault:
        'SIGKILL an executor while both send (40 deliveries arrived), start another; then the receiver drops every connection for 4 s',
    },
    async (defer) => {
      receiver = await startReceiver(SECRET, (path) => (down ? null : path.startsWith('/gone') ? 410 : 200));
      defer(() => receiver.close());
      return {
        storeEnv: { WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS), WEBHOOK_RETRY_BASE_MS: '500' },
        executorEnv: { ...WEBHOOK_ENV, HTTP_ALLOW_HOSTS: receiver.host },
      };
    },
    async ({ sys, node, load, runLog }) => {
      const gone: string[] = [];
      for (let i = 0; i < GONE; i++) {
        // With a key, a 503 (the store slow to answer while the system warms up) is sent again.
        const key = `gone-${i}`;
        let res = await postTask(sys, key, `${receiver.url}/gone`);
        for (let tries = 1; res.status === 503 && tries < 20; tries++) {
          await sleep(500);
          res = await postTask(sys, key, `${receiver.url}/gone`);
        }
        expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
        gone.push((res.body as Task).id);
      }
      const submitting = submit(sys.gatewayUrl, TASKS, load, {
        runLog,
        idempotent: true,
        webhook: { url: `${receiver.url}/hook` },
      });
      await until(
        '40 deliveries received',
        () => receiver.received.filter((r) => r.path === '/hook').length >= 40,
        180_000,
      );
      // Both executors claim deliveries every 200 ms: either holds some when it dies.
      const victim = 'executor-1';
      sys.children.get(victim)!.kill('SIGKILL');
      expect(await sys.exited(victim)).to.equal('SIGKILL');
      await sys.addExecutor({ ...WEBHOOK_ENV, HTTP_ALLOW_HOSTS: receiver.host });
      await until(
        '100 deliveries received',
        () => receiver.received.filter((r) => r.path === '/hook').length >= 100,
        180_000,
      );
      down = true;
      await sleep(4_000);
      down = false;
      await submitting;
      expect(load.accepted, 'every POST accepted (idempotent retries)').to.have.length(TASKS);
      const hooked = [...load.accepted];
      load.accepted.push(...gone);

      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      const { tasks } = await settle(sys.storeUrl, 60_000);
      // Every terminal task's delivery (its id: <task id>:<terminal version>) ends delivered...
      const wanted = hooked.map((id) => `${id}:${tasks.get(id)!.version}`);
      const waitedMs = await until(
        'every delivery delivered',
        async () => {
          const states = await Promise.all(hooked.map((id) => deliveriesOf(sys, id)));
          return states.every((items) => items.length === 1 && items[0]!.state === 'delivered');
        },
        120_000,
      );
      // ... and arrived at least once, signed, answered 2xx; duplicates only repeat the same body.
      const byId = new Map<string, typeof receiver.received>();
      for (const r of receiver.received) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
      const notArrived = wanted.filter((id) => !byId.get(id)?.some((r) => r.answered === 200));
      expect(notArrived, 'deliveries that never arrived').to.deep.equal([]);
      const badSignatures = receiver.received.filter((r) => !r.signatureValid);
      expect(
        badSignatures.map((r) => r.id),
        'requests with a bad signature',
      ).to.deep.equal([]);
      const bodiesDiffer = [...byId.values()].filter((rs) => new Set(rs.map((r) => r.raw)).size > 1);
      expect(bodiesDiffer.length, 'deliveries sent with different bodies').to.equal(0);
      const bodyStatus = wanted.filter((id) => {
        const body = JSON.parse(byId.get(id)![0]!.raw) as Task;
        return `${body.id}:${body.version}` !== id || body.status !== tasks.get(body.id)!.status;
      });
      expect(bodyStatus, 'bodies not the task at its terminal version').to.deep.equal([]);
      const duplicates = wanted.filter((id) => byId.get(id)!.filter((r) => r.answered === 200).length > 1);
      const retried = wanted.filter((id) => byId.get(id)!.length > 1).length;

      // The receiver that never accepts: given up after MAX_ATTEMPTS and visible as failed.
      await until(
        'the 410 deliveries given up',
        async () => {
          const all = await Promise.all(gone.map((id) => deliveriesOf(sys, id)));
          return all.every((items) => items.length === 1 && items[0]!.state === 'failed');
        },
        120_000,
      );
      for (const id of gone) {
        const [d] = await deliveriesOf(sys, id);
        expect(d, `given-up delivery of ${id}`).to.include({ attempts: MAX_ATTEMPTS, nextAttemptAt: null });
        // Each attempt got the 410, or no answer while the receiver was down.
        const codes = new Set(d!.attemptLog.map((a) => a.statusCode));
        expect(
          [...codes].every((c) => c === 410 || c === null),
          `answers to ${d!.id}`,
        ).to.equal(true);
        expect(codes.has(410), `answers to ${d!.id}`).to.equal(true);
      }
      return (
        `${summary}; all ${wanted.length} deliveries delivered (${(waitedMs / 1000).toFixed(1)} s after the checks), ` +
        `each arrived signed with its task at the terminal version, ${retried} after more than one request, ` +
        `${duplicates.length} delivered twice (same Webhook-Id and body); ${GONE} deliveries to a 410 receiver failed after ${MAX_ATTEMPTS} attempts, visible`
      );
    },
  );
});
