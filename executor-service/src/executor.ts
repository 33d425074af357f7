/**
 * The executor: consumes work messages per kind, claims each task in the store, runs it, records
 * the outcome, and only then acks. See docs/executor.md for the delivery rules.
 */
import { randomUUID } from 'node:crypto';
import {
  createAjv,
  eventRoutingKey,
  HEADERS,
  isStoreError,
  WORK_MESSAGE_SCHEMA,
  type StatusEvent,
  type Task,
  type TaskKind,
  type TaskStoreClient,
  type WorkMessage,
} from '@tasks/contracts';
import type { Logger } from 'pino';
import type { Broker, Delivery } from '@tasks/messaging';
import type { Config } from './config.js';
import type { ExecutorMetrics } from './metrics.js';
import type { CpuPool } from './pool.js';
import { StoreUnreachable, untilRecorded } from './store-calls.js';
import { runAttempt, type RunOutcome } from './task-run.js';
import { toRegistration, type LoadedTask } from './tasks/task-loader.js';

const validateMessage = createAjv().compile<WorkMessage>(WORK_MESSAGE_SCHEMA);

export interface ExecutorDeps {
  config: Readonly<Config>;
  store: TaskStoreClient;
  broker: Broker;
  pool: CpuPool;
  tasks: Map<string, LoadedTask>;
  metrics: ExecutorMetrics;
  log: Logger;
}

export class Executor {
  /** Attempts in progress by task id: a set, since this executor may re-claim its own expired lease. */
  private readonly running = new Map<string, Set<AbortController>>();
  private readonly pending = new Set<Promise<void>>();
  private stopping = false;
  private hardStop = false;

  constructor(private readonly d: ExecutorDeps) {}

  async start(): Promise<void> {
    const { config, broker, store, tasks, log } = this.d;
    const types = [...tasks.values()].map((t) =>
      toRegistration(t.definition, { allowHosts: config.httpAllowHosts }),
    );
    await untilRecorded(
      store,
      'taskTypes.register',
      { workerId: config.workerId, types },
      this.callOpts(log),
    );
    log.info({ types: types.map((t) => t.type) }, 'task types registered');
    broker.subscribe('status.cancelled.#', (e) => {
      const taskId = (e as Partial<StatusEvent>).taskId;
      if (typeof taskId === 'string') for (const c of this.running.get(taskId) ?? []) c.abort('CANCELLED');
    });
    const prefetch: Record<TaskKind, number> = { cpu: config.cpuWorkers * 2, io: config.ioConcurrency };
    for (const kind of ['cpu', 'io'] as const) {
      broker.consume({
        queue: broker.topology.queues[kind],
        prefetch: prefetch[kind],
        onMessage: (delivery) => this.track(this.handle(kind, delivery)),
      });
    }
  }

  /** Stop intake, let in-flight tasks finish for the grace period, then hand the rest back. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    await this.d.broker.stopConsuming();
    const grace = new Promise((r) => setTimeout(r, this.d.config.shutdownGraceMs).unref());
    await Promise.race([Promise.allSettled([...this.pending]), grace]);
    this.hardStop = true;
    for (const attempts of this.running.values()) for (const c of attempts) c.abort('SHUTDOWN');
    await Promise.allSettled([...this.pending]);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private callOpts(log: Logger, requestId?: string) {
    return { log, metrics: this.d.metrics, requestId, keepTrying: () => !this.hardStop };
  }

  private async handle(kind: TaskKind, delivery: Delivery): Promise<void> {
    const { metrics } = this.d;
    const headers = delivery.msg.properties.headers ?? {};
    const requestId =
      typeof headers[HEADERS.requestId] === 'string' ? (headers[HEADERS.requestId] as string) : randomUUID();
    let log = this.d.log.child({ reqId: requestId });
    // Delivered (prefetched) but not started when shutdown began: hand it straight back.
    if (this.stopping) return delivery.nack();
    metrics.inFlight.inc({ kind });
    try {
      let msg: unknown;
      try {
        msg = JSON.parse(delivery.msg.content.toString('utf8'));
      } catch {
        return await this.deadLetter(delivery, 'body is not JSON', log);
      }
      if (!validateMessage(msg)) return await this.deadLetter(delivery, 'body is not a work message', log);
      const loaded = this.d.tasks.get(msg.type);
      if (!loaded) return await this.deadLetter(delivery, `no handler for task type ${msg.type}`, log);
      log = log.child({ taskId: msg.taskId });
      await this.process(msg, loaded, delivery, requestId, log);
    } catch (err) {
      if (err instanceof StoreUnreachable) {
        log.warn({ err: err.message }, 'store unreachable at shutdown; message returned to the queue');
      } else {
        log.error({ err }, 'message handling failed; message returned to the queue');
      }
      delivery.nack();
    } finally {
      metrics.inFlight.dec({ kind });
    }
  }

  private async process(
    msg: WorkMessage,
    loaded: LoadedTask,
    delivery: Delivery,
    requestId: string,
    log: Logger,
  ) {
    const { store, config, metrics } = this.d;
    let task: Task;
    try {
      task = await untilRecorded(
        store,
        'tasks.claim',
        { id: msg.taskId, workerId: config.workerId, leaseMs: config.leaseMs },
        this.callOpts(log, requestId),
      );
    } catch (err) {
      if (isStoreError(err, 'TASK_NOT_DUE')) {
        // Not due: back through the delay queue. If that publish fails, the message itself goes back.
        const delayed = await this.publishDelayed(
          msg,
          Date.parse(String(err.data?.runAt)) - Date.now(),
          requestId,
        );
        return delayed ? delivery.ack() : delivery.nack();
      }
      if (isStoreError(err, 'INVALID_TRANSITION') || isStoreError(err, 'TASK_NOT_FOUND')) {
        log.info({ type: err.type, status: err.data?.status }, 'task not claimable; skipped');
        return delivery.ack();
      }
      if (isStoreError(err, 'VALIDATION_FAILED'))
        return this.deadLetter(delivery, `store refused the claim: ${err.message}`, log);
      throw err;
    }
    this.emit(task);
    metrics.started.inc({ type: task.type });
    const controller = new AbortController();
    const attempts = this.running.get(task.id) ?? new Set<AbortController>();
    this.running.set(task.id, attempts.add(controller));
    // A claim answered after the grace ended missed the abort sweep: hand it back at once.
    if (this.hardStop) controller.abort('SHUTDOWN');
    const stopTimer = metrics.duration.startTimer({ type: task.type });
    let outcome: RunOutcome;
    try {
      outcome = await runAttempt(
        { store, pool: this.d.pool, leaseMs: config.leaseMs, allowHosts: config.httpAllowHosts, log },
        loaded,
        task,
        controller,
        requestId,
      );
    } finally {
      attempts.delete(controller);
      if (attempts.size === 0) this.running.delete(task.id);
      stopTimer();
    }
    await this.record(task, outcome, delivery, requestId, log);
  }

  /** Records the outcome, then acks: the message is never acked before the store has the outcome. */
  private async record(task: Task, outcome: RunOutcome, delivery: Delivery, requestId: string, log: Logger) {
    const { store, metrics } = this.d;
    const lease = { id: task.id, leaseId: task.leaseId! };
    const opts = this.callOpts(log, requestId);
    let label: string;
    try {
      if (outcome.kind === 'aborted' && (outcome.reason === 'CANCELLED' || outcome.reason === 'LEASE_LOST')) {
        label = outcome.reason.toLowerCase();
      } else if (outcome.kind === 'aborted' && outcome.reason === 'SHUTDOWN') {
        await untilRecorded(
          store,
          'tasks.release',
          { ...lease, reason: 'executor shutting down' },
          opts,
        ).catch((err: unknown) => log.warn({ err }, 'could not release the lease; it will expire'));
        metrics.finished.inc({ type: task.type, outcome: 'released' });
        log.info('task handed back at shutdown');
        return delivery.nack();
      } else if (outcome.kind === 'ok') {
        this.emit(
          await untilRecorded(store, 'tasks.complete', { ...lease, result: outcome.result ?? null }, opts),
        );
        label = 'succeeded';
      } else {
        const error =
          outcome.kind === 'error'
            ? outcome.error
            : {
                code: 'TIMEOUT',
                message: `task exceeded its timeout of ${task.timeoutMs} ms`,
                retryable: true,
              };
        const after = await untilRecorded(store, 'tasks.fail', { ...lease, error }, opts);
        this.emit(after);
        label = after.status === 'queued' ? 'retried' : outcome.kind === 'aborted' ? 'timeout' : 'failed';
        if (after.status === 'queued') {
          const message = { taskId: after.id, type: after.type, kind: after.kind, version: after.version };
          // Unconfirmed, the outbox entry stays and the dispatcher publishes it later.
          if (await this.publishDelayed(message, Date.parse(after.runAt) - Date.now(), requestId))
            await store
              .call('tasks.markPublished', { tasks: [{ id: after.id, version: after.version }] })
              .catch((err: unknown) =>
                log.warn(
                  { err },
                  'markPublished failed; the dispatcher will publish again (duplicates are skipped)',
                ),
              );
        }
      }
    } catch (err) {
      if (isStoreError(err, 'INVALID_TRANSITION') || isStoreError(err, 'LEASE_LOST')) {
        // Cancelled or taken over meanwhile: the store keeps what it has and discards this result.
        log.info({ type: err.type, status: err.data?.status }, 'outcome discarded by the store');
        label = 'discarded';
      } else if (outcome.kind === 'ok' && !(err instanceof StoreUnreachable)) {
        // A result that cannot be stored (too large, not JSON) would otherwise be retried by lease
        // expiry forever: record it as a failure that is not retried.
        const message = `the result could not be recorded: ${err instanceof Error ? err.message : String(err)}`;
        const error = { code: 'RESULT_REJECTED', message: message.slice(0, 1_000), retryable: false };
        this.emit(await untilRecorded(store, 'tasks.fail', { ...lease, error }, opts));
        log.error({ err }, 'result refused; task failed');
        label = 'failed';
      } else {
        throw err;
      }
    }
    metrics.finished.inc({ type: task.type, outcome: label });
    log.debug({ outcome: label }, 'task attempt ended');
    delivery.ack();
  }

  /** Retry without blocking the queue: a TTL queue per delay step dead-letters back to the work queue. */
  private async publishDelayed(msg: WorkMessage, waitMs: number, requestId: string): Promise<boolean> {
    try {
      await this.d.broker.publishWork(msg, waitMs, requestId, 10_000);
      return true;
    } catch (err) {
      this.d.log.warn({ err, taskId: msg.taskId }, 'delayed publish failed');
      return false;
    }
  }

  /** Parks an unusable message in the dead-letter queue with the reason, then acks it. */
  private async deadLetter(delivery: Delivery, reason: string, log: Logger): Promise<void> {
    const { broker, metrics } = this.d;
    const { content, properties } = delivery.msg;
    try {
      await broker.publishRaw(broker.topology.deadExchange, '', content, {
        persistent: true,
        contentType: properties.contentType as string | undefined,
        headers: { ...(properties.headers ?? {}), [HEADERS.deadReason]: reason },
      });
    } catch (err) {
      log.warn({ err }, 'dead-letter publish failed; message returned to the queue');
      return delivery.nack();
    }
    log.error({ reason }, 'message dead-lettered');
    metrics.deadLettered.inc({ reason: reason.split(' ').slice(0, 3).join(' ') });
    delivery.ack();
  }

  private emit(task: Task): void {
    const event: StatusEvent = {
      taskId: task.id,
      type: task.type,
      status: task.status,
      version: task.version,
      attempts: task.attempts,
      at: task.updatedAt,
      progress: task.progress,
      error: task.error,
    };
    const { broker } = this.d;
    broker
      .publish(broker.topology.eventsExchange, eventRoutingKey(task.status, task.type), event)
      .catch((err: unknown) => this.d.log.warn({ err, taskId: task.id }, 'status event not published'));
  }
}
