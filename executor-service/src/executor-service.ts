/** Builds and starts a whole executor without reading the environment (main.ts and tests share it). */
import type { AddressInfo } from 'node:net';
import { TaskStoreClient, topology } from '@tasks/contracts';
import { runShutdownSteps, SHUTDOWN_CLOSE_ALLOWANCE_MS } from '@tasks/service-runtime';
import { traceStoreRequests } from '@tasks/telemetry';
import type { Logger } from 'pino';
import { Broker } from '@tasks/messaging';
import type { Config } from './config.js';
import { Executor } from './executor.js';
import { createOpsServer } from './http/ops-server.js';
import { createMetrics } from './metrics.js';
import { CpuPool } from './pool.js';
import { builtinTaskModules } from './tasks/builtin/index.js';
import { loadTasks } from './tasks/task-loader.js';
import { toTaskError } from './task-code/thrown-value.js';
import { WebhookSender } from './webhooks/webhook-sender.js';

export interface RunningExecutor {
  executor: Executor;
  opsUrl: string;
  /** Graceful: stop intake, finish or hand back in-flight work, close everything. */
  stop(): Promise<void>;
}

export async function startExecutor(config: Readonly<Config>, log: Logger): Promise<RunningExecutor> {
  const tasks = await loadTasks(builtinTaskModules, config.tasksDir);
  const store = new TaskStoreClient({
    url: config.storeUrl,
    token: config.rpcToken,
    retries: 0,
    onRequest: traceStoreRequests(),
  });
  const metrics = createMetrics();
  const pool = new CpuPool(config.cpuWorkers, config.cpuWorkerMaxHeapMb, (err) =>
    log.error({ error: toTaskError(err) }, 'a cpu pool thread failed outside any task; replaced'),
  );
  const broker = new Broker(config.amqpUrl, topology(config.amqpPrefix), log);
  const executor = new Executor({ config, store, broker, pool, tasks, metrics, log });
  let started = false;
  const ops = createOpsServer({
    broker,
    store,
    metrics,
    pool,
    isStarted: () => started,
    limits: config,
  });
  await new Promise<void>((resolve, reject) => {
    ops.once('error', reject);
    ops.listen(config.metricsPort, config.metricsHost, () => resolve());
  });
  try {
    await broker.waitForConnect(30_000);
    await executor.start();
    started = true;
  } catch (err) {
    ops.close();
    await broker.close().catch(() => undefined);
    await pool.close();
    throw err;
  }
  const webhooks = config.webhookSecret
    ? new WebhookSender(
        store,
        {
          secret: config.webhookSecret,
          owner: config.workerId,
          pollMs: config.webhookPollMs,
          concurrency: config.webhookConcurrency,
          timeoutMs: config.webhookTimeoutMs,
          allowHosts: config.httpAllowHosts,
        },
        metrics,
        log,
      )
    : undefined;
  if (webhooks) webhooks.start();
  else log.warn('WEBHOOK_SECRET is not set: this executor sends no webhooks (deliveries wait in the store)');
  let webhooksStopped: Promise<void> | undefined;
  const { port } = ops.address() as AddressInfo;
  log.info(
    { workerId: config.workerId, cpuWorkers: config.cpuWorkers, types: [...tasks.keys()] },
    'executor started',
  );
  return {
    executor,
    opsUrl: `http://${config.metricsHost}:${port}`,
    async stop() {
      // One deadline for all: the shutdown waits up to the grace period for in-flight tasks, and
      // with the broker or the store gone (or black-holed) a hand-back or a close can hang.
      await runShutdownSteps(
        [
          {
            name: 'finish or hand back in-flight tasks',
            run: () => {
              // Webhooks stop claiming at once too; their POSTs under way end within WEBHOOK_TIMEOUT_MS.
              webhooksStopped = webhooks?.stop();
              return executor.shutdown();
            },
          },
          { name: 'finish webhook deliveries', run: () => webhooksStopped ?? Promise.resolve() },
          { name: 'destroy cpu pool', run: () => pool.close() },
          { name: 'close broker connection', run: () => broker.close() },
          { name: 'close ops server', run: () => new Promise<void>((r) => ops.close(() => r())) },
        ],
        config.shutdownGraceMs + SHUTDOWN_CLOSE_ALLOWANCE_MS,
      );
    },
  };
}
