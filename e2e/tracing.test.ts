import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '@tasks/testkit';
import { api, startSystem, waitForStatus, type RunningSystem } from '@tasks/testkit';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

describe('tracing (e2e: one task, one trace across the three services)', function () {
  this.timeout(90_000);
  let receiver: OtlpReceiver;
  let sys: RunningSystem;
  let logDir: string;

  before(async () => {
    receiver = await startOtlpReceiver();
    logDir = mkdtempSync(join(tmpdir(), 'tracing-e2e-'));
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    sys = await startSystem({
      storeEnv: otel,
      gatewayEnv: otel,
      executorEnv: { ...otel, LOG_LEVEL: 'debug' },
      logDir,
    });
  });

  after(async () => {
    await sys?.stop();
    await receiver?.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('when a task is submitted with an OTLP endpoint set, then the gateway, the store and the executor send spans of one trace with the right parents, and the task and the logs name it', async () => {
    const created = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: { type: 'noop', payload: {} },
    });
    expect(created.status).to.equal(201);
    const traceId: string = created.body.traceId;
    expect(traceId, 'the task shows its creating trace').to.match(/^[0-9a-f]{32}$/);
    expect(created.body).not.to.have.property('traceparent');
    const done = await waitForStatus(sys.gatewayUrl, created.body.id, ['succeeded']);
    expect(done.traceId).to.equal(traceId);

    const trace = await spansOf(receiver, traceId, (spans) =>
      spans.some((s) => s.service === 'task-store-service' && s.name === 'tasks.complete'),
    );
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const underOf = (s: ReceivedSpan, ancestor: ReceivedSpan) => {
      for (let p = parentOf(s); p; p = parentOf(p)) if (p === ancestor) return true;
      return false;
    };
    const one = (service: string, kind: number, name: string | RegExp) => {
      const found = trace.filter(
        (s) =>
          s.service === service &&
          s.kind === kind &&
          (typeof name === 'string' ? s.name === name : name.test(s.name)),
      );
      expect(found, `${service} ${kind} ${String(name)} in ${names(trace)}`).to.have.length.greaterThan(0);
      return found[0]!;
    };

    expect(new Set(trace.map((s) => s.service))).to.deep.equal(
      new Set(['gateway-service', 'task-store-service', 'executor-service']),
    );
    // The POST: the REST server span is the root; koa's router span, the JSON-RPC client call and the publish are under it.
    const post = one('gateway-service', SERVER, /^POST/);
    expect(post.parentSpanId, 'the REST request starts the trace').to.equal(undefined);
    const route = one('gateway-service', 1, 'create-task'); // koa names the span after the route
    expect(underOf(route, post)).to.equal(true);
    const createCall = one('gateway-service', CLIENT, 'tasks.create');
    expect(underOf(createCall, post)).to.equal(true);
    // The store: its HTTP server span under the gateway's client span, the JSON-RPC call under
    // it, and MongoDB operations under the call.
    const storeHttp = trace.find(
      (s) => s.service === 'task-store-service' && s.kind === SERVER && s.parentSpanId === createCall.spanId,
    );
    expect(storeHttp, `the store's HTTP span under tasks.create in ${names(trace)}`).to.not.equal(undefined);
    const storeCreate = one('task-store-service', SERVER, 'tasks.create');
    expect(underOf(storeCreate, createCall)).to.equal(true);
    const mongo = trace.filter((s) => s.scope.includes('mongodb'));
    expect(
      mongo.some((s) => underOf(s, storeCreate)),
      `a MongoDB span under the store's tasks.create in ${names(trace)}`,
    ).to.equal(true);
    // RabbitMQ: the gateway's publish, the executor's consume under it, the run and the claim
    // and complete calls under the consume, and the store's calls under those.
    const publish = one('gateway-service', PRODUCER, /^publish /);
    expect(underOf(publish, post)).to.equal(true);
    const consume = one('executor-service', CONSUMER, /^process /);
    expect(consume.parentSpanId, 'consume is the child of publish (traceparent in AMQP headers)').to.equal(
      publish.spanId,
    );
    const run = one('executor-service', 1, 'run noop');
    expect(run.parentSpanId).to.equal(consume.spanId);
    for (const method of ['tasks.claim', 'tasks.complete']) {
      const client = one('executor-service', CLIENT, method);
      expect(underOf(client, consume), `${method} under the consume`).to.equal(true);
      const server = one('task-store-service', SERVER, method);
      expect(underOf(server, client), `the store's ${method} under the executor's`).to.equal(true);
    }

    const executorLog = readFileSync(join(logDir, 'executor-1.log'), 'utf8');
    expect(
      executorLog
        .split('\n')
        .some((line) => line.includes(`"traceId":"${traceId}"`) && line.includes(created.body.id)),
      'an executor log line of the task carries its trace id',
    ).to.equal(true);
    expect(receiver.rejected).to.deep.equal([]);
  });
});

/** Waits until the receiver holds the trace's spans and `complete` says they are all there. */
async function spansOf(
  receiver: OtlpReceiver,
  traceId: string,
  complete: (spans: ReceivedSpan[]) => boolean,
  timeoutMs = 15_000,
): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    if (complete(spans)) {
      // Spans that end a moment later (the consume, the POST) may be in the next export.
      await new Promise((r) => setTimeout(r, 500));
      return receiver.spans.filter((s) => s.traceId === traceId);
    }
    if (Date.now() > deadline) throw new Error(`trace ${traceId} incomplete: ${names(spans)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const names = (spans: ReceivedSpan[]) => spans.map((s) => `${s.service}:${s.kind}:${s.name}`).join(', ');
