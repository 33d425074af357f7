/**
 * The executor: consumes the queues of the task types it has handlers for, claims each task in
 * the store, runs it, records the outcome, and only then acks. See docs/executor.md for the
 * delivery rules.
 */
import { randomUUID } from 'node:crypto';
import {
  createAjv,
  declareTypeQueue,
  eventRoutingKey,
  HEADERS,
  isStoreError,
  PRIORITY_BANDS,
  statusEvent,
  TASK_KINDS,
  WORK_MESSAGE_SCHEMA,
  type StatusEvent,
  type Task,
  type TaskKind,
  type TaskSummary,
  type TaskStoreClient,
  workMessage,
  type WorkMessage,
} from '@tasks/contracts';
import type { Logger } from 'pino';
import type { Broker, Delivery } from '@tasks/messaging';
import { consumeSpan, SpanKind, withSpan } from '@tasks/telemetry';
import type { Config } from './config.js';
import type { ExecutorMetrics } from './metrics.js';
import type { CpuPool } from './pool.js';
import { RunSlots } from './run-slots.js';
import { StoreBatcher } from './store-batcher.js';
import { StoreUnreachable, untilRecorded } from './store-calls.js';
import { runAttempt, type RunOutcome } from './task-run.js';
import { toRegistration, type LoadedTask } from './tasks/task-loader.js';

/** How long a hand-back at shutdown waits for its publish to be confirmed (the grace is short). */
const HAND_BACK_CONFIRM_MS = 2_000;
/** How long the leaving heartbeat may take, retries included, before shutdown goes on without it. */
const LEAVING_BUDGET_MS = 5_000;

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

/** One attempt in progress: its abort switch and the task version its claim produced. */
interface Attempt {
  controller: AbortController;
  claimedVersion: number;
}

export class Executor {
  /** Attempts in progress by task id: a set, since this executor may re-claim its own expired lease. */
  private readonly running = new Map<string, Set<Attempt>>();
  private readonly pending = new Set<Promise<void>>();
  /** Claims sent and not yet answered (retries included): the only claims that may land after shutdown began. */
  private claimsUnanswered = 0;
  private readonly slots: Record<TaskKind, RunSlots>;
  private stopping = false;
  /** Settles once the consumers are cancelled at shutdown: nothing more will be delivered. */
  private consumersCancelled: Promise<void> | undefined;
  private hardStop = false;
  private presence: NodeJS.Timeout | undefined;
  /** The periodic heartbeat in flight, if any: the leaving one waits for it, lest it land after. */
  private lastBeat: Promise<unknown> = Promise.resolve();
  /** Claims and outcomes: those of messages that arrive together share one JSON-RPC batch. */
  private readonly batched: StoreBatcher;

  constructor(private readonly deps: ExecutorDeps) {
    this.batched = new StoreBatcher(deps.store, {
      windowMs: deps.config.storeBatchWindowMs,
      maxCalls: deps.config.storeBatchMaxCalls,
      onBatch: (size) => deps.metrics.storeBatchSize.observe(size),
    });
    this.slots = { cpu: new RunSlots(this.slotsOf('cpu')), io: new RunSlots(this.slotsOf('io')) };
  }

  /** How many deliveries of a kind are handled at once. */
  private slotsOf(kind: TaskKind): number {
    return kind === 'cpu' ? this.deps.config.cpuWorkers * 2 : this.deps.config.ioConcurrency;
  }

  async start(): Promise<void> {
    const { config, broker, store, tasks, log } = this.deps;
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
    // Says which types are served, so that stats can tell tasks that wait for an executor.
    const { liveForMs } = await untilRecorded(
      store,
      'executors.heartbeat',
      this.presenceParams(),
      this.callOpts(log),
    );
    let beating = false;
    this.presence = setInterval(() => {
      if (beating) return; // one at a time: the leaving heartbeat waits for it
      beating = true;
      this.lastBeat = store
        .call('executors.heartbeat', this.presenceParams())
        .catch((err: unknown) => log.warn({ err }, 'executor heartbeat failed; will try again'))
        .finally(() => (beating = false));
    }, liveForMs / 3);
    this.presence.unref();
    broker.subscribe('status.cancelled.#', (e) => this.onCancelled(e as Partial<StatusEvent>));
    for (const kind of TASK_KINDS) {
      const served = [...tasks.values()].map((t) => t.definition).filter((d) => d.kind === kind);
      if (served.length === 0) continue;
      broker.consume({
        // Most urgent band first: at start-up, its deliveries arrive before those of lower bands.
        queues: PRIORITY_BANDS.flatMap((band) => served.map((d) => broker.topology.typeQueue(d.type, band))),
        // Each band's consumer may hold one more than the kind runs at once (the slots bound the
        // total): when a slot frees, the band that just ran still has a delivery waiting for it
        // while its next one is on the way, so a lower band does not take the slot meanwhile.
        prefetch: this.slotsOf(kind) + 1,
        setup: async (ch) => {
          for (const d of served) await declareTypeQueue(ch, broker.topology, d.type);
        },
        onMessage: (delivery) => this.track(this.handle(kind, delivery)),
      });
    }
    await this.drainLegacyQueues();
  }

  /**
   * Queues of the per-kind layout (before work was routed by type) may still hold messages, and
   * gateways of the previous version may still publish there: every executor moves what arrives
   * in them to the type's queue. Nothing is declared: on a fresh broker they do not exist.
   */
  private async drainLegacyQueues(): Promise<void> {
    const { broker, log } = this.deps;
    for (const queue of Object.values(broker.topology.legacyQueues)) {
      if (!(await broker.queueExists(queue))) continue;
      log.info({ queue }, 'draining a queue of the per-kind layout into the queues by type');
      broker.consume({ queues: [queue], prefetch: 50, onMessage: (d) => this.track(this.reroute(d)) });
    }
  }

  /** A stale cancel (replayed, or from before a retry) must not stop a later attempt. */
  private onCancelled(e: Partial<StatusEvent>): void {
    if (typeof e.taskId !== 'string') return;
    for (const attempt of this.running.get(e.taskId) ?? []) {
      if (typeof e.version === 'number' && e.version > attempt.claimedVersion)
        attempt.controller.abort('CANCELLED');
    }
  }

  /** Stop intake, let in-flight tasks finish for the grace period, then hand the rest back. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.presence);
    this.consumersCancelled = this.deps.broker.stopConsuming();
    await this.consumersCancelled;
    await this.announceLeaving();
    for (const slots of Object.values(this.slots)) slots.cancelWaiting();
    const grace = new Promise((r) => setTimeout(r, this.deps.config.shutdownGraceMs).unref());
    await Promise.race([Promise.allSettled([...this.pending]), grace]);
    this.hardStop = true;
    for (const attempts of this.running.values()) for (const a of attempts) a.controller.abort('SHUTDOWN');
    await Promise.allSettled([...this.pending]);
  }

  /**
   * Tells the store this executor serves nothing any more, so that stats name the types it leaves
   * unserved at once. A periodic heartbeat still in flight is awaited first: landing after this
   * one, it would mark the executor live again. Best effort within a budget: if the store does
   * not answer, stats stop counting the executor once its last heartbeat is old.
   */
  private async announceLeaving(): Promise<void> {
    await this.lastBeat;
    await this.deps.store
      .call(
        'executors.heartbeat',
        { ...this.presenceParams(), stopping: true },
        { timeoutMs: LEAVING_BUDGET_MS },
      )
      .catch((err: unknown) =>
        this.deps.log.warn(
          { err },
          'could not tell the store this executor is leaving; stats count it until its last heartbeat is old',
        ),
      );
  }

  private presenceParams() {
    return { workerId: this.deps.config.workerId, types: [...this.deps.tasks.keys()] };
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Claims sent and not yet answered. None is sent once shutdown began, so at the `shutting down`
   * line this bounds the claims the store may still record for this executor.
   */
  get claimsInFlight(): number {
    return this.claimsUnanswered;
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private callOpts(log: Logger, requestId?: string) {
    return { log, metrics: this.deps.metrics, requestId, keepTrying: () => !this.hardStop };
  }

  private async handle(kind: TaskKind, delivery: Delivery): Promise<void> {
    const { metrics } = this.deps;
    const requestId = requestIdOf(delivery);
    let log = this.deps.log.child({ reqId: requestId });
    const msg = this.parse(delivery);
    // Higher priorities take the next free slot (docs/priorities.md); unusable messages rank lowest.
    const priority = typeof msg === 'string' ? 0 : (msg.priority ?? 0);
    // Delivered (prefetched) but not started when shutdown began: hand it straight back.
    if (this.stopping || !(await this.slots[kind].acquire(priority))) return this.handBack(delivery);
    // Shutdown began while it waited: a slot freed by a run ending in the grace is not for new work.
    if (this.stopping) {
      this.slots[kind].release();
      return this.handBack(delivery);
    }
    metrics.inFlight.inc({ kind });
    try {
      if (typeof msg === 'string') return await this.deadLetter(delivery, msg, log);
      const loaded = this.deps.tasks.get(msg.type);
      // Not ours (a message bound to the wrong queue): to its type's queue, where its executors are.
      if (!loaded) return await this.reroute(delivery);
      log = log.child({ taskId: msg.taskId });
      const taskLog = log;
      // The publish's trace context came in the message headers: the run joins the task's trace.
      await consumeSpan(
        {
          destination: delivery.msg.fields.routingKey,
          messageId: delivery.msg.properties.messageId as string | undefined,
          attributes: { 'task.id': msg.taskId, 'task.type': msg.type },
        },
        delivery.msg.properties.headers,
        () => this.process(msg, loaded, delivery, requestId, taskLog),
      );
    } catch (err) {
      if (err instanceof StoreUnreachable) {
        log.warn({ err: err.message }, 'store unreachable at shutdown; message returned to the queue');
      } else {
        log.error({ err }, 'message handling failed; message returned to the queue');
      }
      delivery.nack();
    } finally {
      metrics.inFlight.dec({ kind });
      this.slots[kind].release();
    }
  }

  /**
   * A delivery this executor will not start (it is stopping) goes back as a new message, then
   * the delivery is acked: returned with a nack it would count toward the queue's delivery limit,
   * and a task must not be failed for the deploys it waited through. Nacked when it is not a work
   * message (its next delivery dead-letters it) or the publish is not confirmed in time. (A nack
   * while the consumer still stood once dead-lettered tasks that never ran: the quorum queue
   * returned the message to the same consumer, which nacked it again, until the limit.)
   */
  private async handBack(delivery: Delivery): Promise<void> {
    // Not before the consumers are cancelled: handed back to a consumer that still stands, the
    // message can come straight back to this executor, round and round until the cancel.
    await this.consumersCancelled;
    const msg = this.parse(delivery);
    if (
      typeof msg !== 'string' &&
      (await this.publishDelayed(msg, 0, requestIdOf(delivery), HAND_BACK_CONFIRM_MS))
    )
      return delivery.ack();
    delivery.nack();
  }

  /** The work message, or why the delivery is not one. */
  private parse(delivery: Delivery): WorkMessage | string {
    let msg: unknown;
    try {
      msg = JSON.parse(delivery.msg.content.toString('utf8'));
    } catch {
      return 'body is not JSON';
    }
    return validateMessage(msg) ? msg : 'body is not a work message';
  }

  /** Publishes the message again, routed by its type and priority (confirmed), then acks the delivery. */
  private async reroute(delivery: Delivery): Promise<void> {
    const log = this.deps.log.child({ reqId: requestIdOf(delivery) });
    if (this.stopping) return delivery.nack();
    const msg = this.parse(delivery);
    if (typeof msg === 'string') return this.deadLetter(delivery, msg, log);
    if (await this.publishDelayed(msg, 0, requestIdOf(delivery))) {
      log.info({ taskId: msg.taskId, type: msg.type }, 'message moved to the queue of its type');
      return delivery.ack();
    }
    delivery.nack();
  }

  private async process(
    msg: WorkMessage,
    loaded: LoadedTask,
    delivery: Delivery,
    requestId: string,
    log: Logger,
  ) {
    const { store, config, metrics } = this.deps;
    let task: Task;
    try {
      this.claimsUnanswered++;
      // Our own lease id makes the claim repeatable: a retry after a lost answer gets this lease
      // back instead of a conflict that would leave the task running until its lease expired.
      task = await untilRecorded(
        this.batched,
        'tasks.claim',
        {
          id: msg.taskId,
          type: msg.type,
          workerId: config.workerId,
          leaseMs: config.leaseMs,
          leaseId: randomUUID(),
        },
        this.callOpts(log, requestId),
      ).finally(() => this.claimsUnanswered--);
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
      if (isStoreError(err, 'TASK_HELD')) {
        // Paused, or at its concurrency limit: the store holds it and publishes it again when it may start.
        log.debug({ reason: err.data?.reason }, 'task held by the store; message dropped');
        return delivery.ack();
      }
      if (isStoreError(err, 'TASK_EXPIRED')) {
        // Not started by its expiresAt: the claim ended it. Announce it and the flow nodes it moved.
        const dependents: unknown[] = Array.isArray(err.data?.dependents) ? err.data.dependents : [];
        const ended = [err.data?.task, ...dependents];
        await this.publishDue(ended.filter(isTaskSummary), requestId, log);
        log.info('task expired before it started');
        return delivery.ack();
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
    const attempt: Attempt = { controller, claimedVersion: task.version };
    const attempts = this.running.get(task.id) ?? new Set<Attempt>();
    this.running.set(task.id, attempts.add(attempt));
    // A claim answered after the grace ended missed the abort sweep: hand it back at once.
    if (this.hardStop) controller.abort('SHUTDOWN');
    const stopTimer = metrics.duration.startTimer({ type: task.type });
    let outcome: RunOutcome;
    try {
      outcome = await withSpan(
        `run ${task.type}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            'task.id': task.id,
            'task.type': task.type,
            'task.kind': task.kind,
            'task.attempt': task.attempts,
          },
        },
        async (span) => {
          const ran = await runAttempt(
            { store, pool: this.deps.pool, leaseMs: config.leaseMs, allowHosts: config.httpAllowHosts, log },
            loaded,
            task,
            controller,
            requestId,
          );
          span?.setAttribute('task.outcome', ran.kind === 'aborted' ? ran.reason : ran.kind);
          return ran;
        },
      );
    } finally {
      attempts.delete(attempt);
      if (attempts.size === 0) this.running.delete(task.id);
      stopTimer();
    }
    await this.record(task, outcome, delivery, requestId, log);
  }

  /** Records the outcome, then acks: the message is never acked before the store has the outcome. */
  private async record(task: Task, outcome: RunOutcome, delivery: Delivery, requestId: string, log: Logger) {
    const { store, metrics } = this.deps;
    const batched = this.batched;
    const lease = { id: task.id, leaseId: task.leaseId! };
    const opts = this.callOpts(log, requestId);
    let label: string;
    try {
      if (outcome.kind === 'aborted' && (outcome.reason === 'CANCELLED' || outcome.reason === 'LEASE_LOST')) {
        label = outcome.reason.toLowerCase();
      } else if (outcome.kind === 'aborted' && outcome.reason === 'SHUTDOWN') {
        const released = await untilRecorded(
          batched,
          'tasks.release',
          { ...lease, reason: 'executor shutting down' },
          opts,
        ).catch((err: unknown) => log.warn({ err }, 'could not release the lease; it will expire'));
        // Tasks held for the concurrency slot this run freed (their outbox entries cover a failure).
        if (released) await this.publishDue(released.dependents ?? [], requestId, log);
        metrics.finished.inc({ type: task.type, outcome: 'released' });
        log.info('task handed back at shutdown');
        // Counted toward the delivery limit, but harmless: released, the task is at a newer
        // version than this message, and a dead-lettered message of an older version fails nothing.
        return delivery.nack();
      } else if (outcome.kind === 'ok') {
        const done = await untilRecorded(
          batched,
          'tasks.complete',
          { ...lease, result: outcome.result ?? null },
          opts,
        );
        this.emit(done);
        await this.publishDue(done.dependents ?? [], requestId, log);
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
        const after = await untilRecorded(batched, 'tasks.fail', { ...lease, error }, opts);
        this.emit(after);
        await this.publishDue(after.dependents ?? [], requestId, log);
        label = after.status === 'queued' ? 'retried' : outcome.kind === 'aborted' ? 'timeout' : 'failed';
        if (after.status === 'queued') {
          const message = workMessage(after);
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
        this.emit(await untilRecorded(batched, 'tasks.fail', { ...lease, error }, opts));
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

  /**
   * Announces the flow nodes an outcome moved (docs/flows.md) and publishes those it made due.
   * Their outbox entries are in the store already: a publish that fails here is only later, by
   * the gateways' dispatcher.
   */
  private async publishDue(moved: TaskSummary[], requestId: string, log: Logger): Promise<void> {
    const published: { id: string; version: number }[] = [];
    for (const t of moved) {
      this.emit(t);
      if (t.status !== 'queued') continue;
      if (await this.publishDelayed(workMessage(t), Date.parse(t.runAt) - Date.now(), requestId))
        published.push({ id: t.id, version: t.version });
    }
    if (published.length === 0) return;
    await this.deps.store
      .call('tasks.markPublished', { tasks: published })
      .catch((err: unknown) =>
        log.warn({ err }, 'markPublished failed; the dispatcher will publish again (duplicates are skipped)'),
      );
  }

  /** Retry without blocking the queue: a TTL queue per delay step dead-letters back to the work queue. */
  private async publishDelayed(
    msg: WorkMessage,
    waitMs: number,
    requestId: string,
    confirmMs = 10_000,
  ): Promise<boolean> {
    try {
      await this.deps.broker.publishWork(msg, waitMs, requestId, { timeoutMs: confirmMs });
      return true;
    } catch (err) {
      this.deps.log.warn({ err, taskId: msg.taskId }, 'delayed publish failed');
      return false;
    }
  }

  /** Parks an unusable message in the dead-letter queue with the reason, then acks it. */
  private async deadLetter(delivery: Delivery, reason: string, log: Logger): Promise<void> {
    const { broker, metrics } = this.deps;
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

  private emit(task: Task | TaskSummary): void {
    const { broker } = this.deps;
    broker
      .publish(broker.topology.eventsExchange, eventRoutingKey(task.status, task.type), statusEvent(task))
      .catch((err: unknown) => this.deps.log.warn({ err, taskId: task.id }, 'status event not published'));
  }
}

/** A task summary carried in an error's data (TASK_EXPIRED): only what publishDue reads is checked. */
function isTaskSummary(v: unknown): v is TaskSummary {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Partial<Record<keyof TaskSummary, unknown>>;
  return (
    typeof t.id === 'string' &&
    typeof t.type === 'string' &&
    typeof t.status === 'string' &&
    typeof t.version === 'number'
  );
}

function requestIdOf(delivery: Delivery): string {
  const headers = delivery.msg.properties.headers ?? {};
  const id: unknown = headers[HEADERS.requestId];
  return typeof id === 'string' ? id : randomUUID();
}
