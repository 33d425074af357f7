/**
 * Our system under closed-loop load: startSystem() (store, gateway, executors as child
 * processes, RabbitMQ at 127.0.0.1:5672, the MongoDB-wire server of MONGO_URL), `noop` tasks
 * through POST /v1/tasks or /v1/tasks/batch, done when every task has ended, figures read back
 * from the store (tasks.list, createdAt → finishedAt). One system for the given scenarios: every
 * scenario's warm-up first, then the measured repetitions in rounds (C=16, C=64, batch, C=16, …),
 * so scenarios see the same growth of the collection; `storedBefore` records it per run.
 */
import { TaskStoreClient, topology, type Task, type TaskSummary } from '@tasks/contracts';
import { AMQP_URL, startSystem, type RunningSystem } from '@tasks/testkit';
import { progress, type Budget } from './measure.js';
import { withTimeout, type Cleanup } from './cleanup.js';
import {
  runFigures,
  scenarioLabel,
  type RunFigures,
  type ScenarioResult,
  type ScenarioSpec,
  type Timing,
} from './figures.js';
import { batchSizes, closedLoop, openLoop, type LoadResult } from './http-load.js';
import { childPids, cpuMeter, pidsByName } from './processes.js';
import { pgPerTask, type PgStats } from './pg-stats.js';
import { counterDelta, histogramMeans, scrape, storeRpcDelta, storeWork } from './prom-metrics.js';
import { TerminalEvents } from './terminal-events.js';

export interface OursOptions {
  executors: number;
  /** Settings for the executors (the service defaults otherwise, e.g. IO_CONCURRENCY 100). */
  executorEnv: Record<string, string>;
  scenarios: ScenarioSpec[];
  repetitions: number;
  warmupN: number;
  ferretPid: number | undefined;
  /** When FerretDB keeps its data in PostgreSQL. */
  pg: PgStats | undefined;
  budget: Budget;
  /** Time to keep for what comes after (no run starts, and every run ends, before it). */
  reserveMs: number;
  /** Longest a single run may take. */
  maxRunMs: number;
  cleanup: Cleanup;
  /**
   * Called once after the warm-ups: the tasks per measured run for every scenario (e.g. what the
   * warm-up rate says fits the budget), or undefined to keep each scenario's own n.
   */
  sizeRuns?: (warmups: ScenarioResult[]) => number | undefined;
  /** Called once the system is up, before any run (e.g. to tune its database as `make start` does). */
  prepare?: (system: RunningSystem) => Promise<void>;
  /** Called once after every run, before the system stops (e.g. to measure reads on what the runs left). */
  finish?: (system: RunningSystem) => Promise<void>;
  /**
   * Called once after the measured runs: more scenarios to measure on the same system (e.g. open
   * loop at shares of the rate just measured), and the new reserve for them; it may first add
   * tasks to the store behind the system's back (`stored`: how many, for storedBefore).
   */
  extend?: (
    results: ScenarioResult[],
    system: RunningSystem,
  ) => Promise<Extension | undefined> | Extension | undefined;
}

export interface Extension {
  scenarios: ScenarioSpec[];
  reserveMs: number;
  warmup: boolean;
  stored?: number;
}

export interface OursOutcome {
  results: ScenarioResult[];
  rabbitmq: string;
  startSeconds: number;
}

export async function runOurs(o: OursOptions): Promise<OursOutcome> {
  const results: ScenarioResult[] = o.scenarios.map((spec) => ({
    spec,
    label: scenarioLabel(spec),
    warmup: [],
    runs: [],
  }));
  const t0 = Date.now();
  const system = await startSystem({ executors: o.executors, executorEnv: o.executorEnv });
  const startSeconds = (Date.now() - t0) / 1000;
  const unregister = o.cleanup.add(() => system.stop());
  progress(
    o.budget,
    `system up in ${startSeconds.toFixed(1)} s (${o.executors} executor(s), prefix ${system.prefix})`,
  );
  let events: TerminalEvents | undefined;
  try {
    await o.prepare?.(system);
    events = await TerminalEvents.open(AMQP_URL, topology(system.prefix).eventsExchange);
    const run = new OursRun(system, events, o);
    await measure(run, results, o, o.sizeRuns);
    const more = await o.extend?.(results, system);
    if (more) {
      run.stored += more.stored ?? 0;
      const extra = more.scenarios.map((spec) => ({
        spec,
        label: scenarioLabel(spec),
        warmup: [],
        runs: [],
      }));
      run.reserveMs = more.reserveMs;
      results.push(...extra);
      await measure(run, extra, o, undefined, more.warmup);
    }
    await o.finish?.(system);
    return { results, rabbitmq: events.server, startSeconds };
  } finally {
    await events?.close();
    unregister();
    // stop() ends with dropping the database: bounded, because a deadlocked server never answers
    // (the database server is stopped, and its PostgreSQL database dropped, after us anyway).
    await withTimeout(system.stop(), 60_000, 'stopping the system').then(
      (codes) =>
        progress(
          o.budget,
          `system stopped (exit codes ${JSON.stringify(codes)}); queues and database deleted`,
        ),
      (err: unknown) =>
        progress(o.budget, `system stop incomplete: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}

/** Every scenario's warm-up, then the measured repetitions in rounds over the scenarios. */
async function measure(
  run: OursRun,
  results: ScenarioResult[],
  o: OursOptions,
  sizeRuns?: OursOptions['sizeRuns'],
  warmup = true,
): Promise<void> {
  let stop: string | undefined;
  for (const r of warmup ? results : []) {
    stop ??= await run.once(r, 0);
  }
  const n = sizeRuns?.(results);
  if (n !== undefined) {
    for (const r of results) {
      r.spec = { ...r.spec, n };
      r.label = scenarioLabel(r.spec);
    }
  }
  for (let rep = 1; rep <= o.repetitions; rep++) {
    for (const r of results) {
      if (stop) {
        r.note ??= stop;
        continue;
      }
      stop = await run.once(r, rep);
    }
  }
}

class OursRun {
  /** Time to keep for what comes after (no run starts, and every run ends, before it). */
  reserveMs: number;
  private readonly store: TaskStoreClient;
  private readonly metricsUrl: string;
  /** Tasks in the store's collection (ours, and any written behind its back). */
  stored = 0;
  /** Run seconds per task of the last run of each scenario, to tell whether the next fits. */
  private readonly secondsPerTask = new Map<ScenarioResult, number>();

  constructor(
    private readonly system: RunningSystem,
    private readonly events: TerminalEvents,
    private readonly o: OursOptions,
  ) {
    this.reserveMs = o.reserveMs;
    this.store = new TaskStoreClient({ url: system.storeUrl, timeoutMs: 180_000, retries: 0 });
    this.metricsUrl = system.storeUrl.replace(/\/rpc$/, '/metrics');
  }

  /** One run (rep 0 = warm-up). Returns a reason to stop all further runs, if any. */
  async once(r: ScenarioResult, rep: number): Promise<string | undefined> {
    const { budget } = this.o;
    const warmup = rep === 0;
    const spec = warmup ? { ...r.spec, n: this.o.warmupN } : r.spec;
    const endBy = budget.startedAt + budget.totalMs - this.reserveMs;
    const estimate = (this.secondsPerTask.get(r) ?? 0) * spec.n * 1000;
    if (Date.now() + estimate > endBy) {
      r.note = `${r.runs.length} of ${this.o.repetitions} runs measured: the time budget did not allow more (a run takes about ${Math.round(estimate / 1000)} s)`;
      return undefined; // other scenarios may still fit
    }
    const deadline = Math.min(Date.now() + this.o.maxRunMs, endBy);
    const storedBefore = this.stored;
    const roles = {
      store: childPids('task-store-service/src/main.ts'),
      gateway: childPids('gateway-service/src/main.ts'),
      executor: childPids('executor-service/src/main.ts'),
      ferretdb: this.o.ferretPid === undefined ? [] : [this.o.ferretPid],
      // the broker's VM, not a short-lived one of rabbitmqctl
      rabbitmq: pidsByName('beam.smp', 'rabbit boot'),
      ...(this.o.pg && { postgres: () => this.o.pg!.backendPids() }),
    };
    const storeBefore = await scrape(this.metricsUrl);
    const gatewayBefore = await scrape(`${this.system.gatewayUrl}/metrics`);
    const pgBefore = (await this.o.pg?.snapshot()) ?? null;
    const meter = await cpuMeter(roles);
    const load = await this.submit(spec);
    this.stored += load.ids.length;
    const ended = await this.events.waitFor(
      load.ids,
      deadline,
      (timeoutMs) => this.terminal(load, timeoutMs),
      (n) =>
        progress(
          budget,
          `no status event for 15 s: ${n} of ${load.ids.length} ended by the events; asking the store`,
        ),
    );
    const cpu = await meter();
    const storeAfter = await scrape(this.metricsUrl);
    const gatewayAfter = await scrape(`${this.system.gatewayUrl}/metrics`);
    const tasks = await this.readBack(load, ended ? 180_000 : 60_000);
    // After the read-back (one or two transactions more), so that PostgreSQL has flushed the
    // backends' counters of the run's last second.
    const pgAfter = (await this.o.pg?.snapshot()) ?? null;
    const mine = new Set(load.ids);
    const orphans = [...tasks.keys()].filter((id) => !mine.has(id)).length;
    this.stored += orphans; // created by the store although the client got an error
    const timings: Timing[] = load.ids.map((id) => {
      const t = tasks.get(id);
      // Open loop: from the scheduled send time, so that waiting before the store saw it counts.
      const from = load.scheduledEpochMsById?.get(id);
      return {
        id,
        status: t?.status ?? 'missing',
        createdMs: t ? (from ?? Date.parse(t.createdAt)) : NaN,
        finishedMs: t?.finishedAt ? Date.parse(t.finishedAt) : null,
      };
    });
    const pgWork = this.o.pg ? pgPerTask(pgBefore, pgAfter, load.ids.length) : undefined;
    const figures: RunFigures = {
      ...runFigures({ rep, warmup, spec, load, timings, cpu, timedOut: !ended, storedBefore }),
      storeRpc: storeRpcDelta(storeBefore, storeAfter),
      storeWork: storeWork(storeBefore, storeAfter, load.ids.length, pgWork?.commits),
      gatewayRoutes: histogramMeans(
        gatewayBefore,
        gatewayAfter,
        'gateway_http_request_duration_seconds',
        'route',
      ),
      ...(pgWork && { postgresPerTask: pgWork }),
      counters: {
        createdWithoutAnswer: orphans,
        publishConfirmedOnRequest: counterDelta(gatewayBefore, gatewayAfter, 'gateway_publish_total', {
          source: 'request',
          outcome: 'confirmed',
        }),
        publishFailedOnRequest: counterDelta(gatewayBefore, gatewayAfter, 'gateway_publish_total', {
          source: 'request',
          outcome: 'failed',
        }),
        publishedByDispatcher: counterDelta(gatewayBefore, gatewayAfter, 'gateway_publish_total', {
          source: 'dispatcher',
        }),
        requeuedLeases: counterDelta(gatewayBefore, gatewayAfter, 'gateway_requeued_leases_total'),
      },
    };
    (warmup ? r.warmup : r.runs).push(figures);
    if (Number.isFinite(figures.makespanSeconds) && figures.accepted > 0)
      this.secondsPerTask.set(r, (cpu.wallMs / 1000 / figures.accepted) * 1.2);
    progress(
      budget,
      `${r.label} ${warmup ? 'warm-up' : `run ${rep}`}: ${figures.accepted} accepted, ${figures.succeeded} succeeded, ` +
        `${figures.failed} failed, ${figures.notTerminal} not ended; ${figures.completedPerSec} done/s, ` +
        `p50/p99 ${figures.latencyMs?.p50}/${figures.latencyMs?.p99} ms; stored before ${storedBefore}` +
        (figures.firstError ? `; first error: ${figures.firstError}` : ''),
    );
    if (!ended) {
      return `a run did not end within its deadline (${figures.notTerminal} tasks not ended after ${Math.round(cpu.wallMs / 1000)} s), so no further runs on this system`;
    }
    return undefined;
  }

  private submit(spec: ScenarioSpec): Promise<LoadResult> {
    const task = { type: 'noop', payload: {} };
    if (spec.path === 'open') {
      return openLoop({
        url: `${this.system.gatewayUrl}/v1/tasks`,
        ratePerSec: spec.ratePerSec!,
        count: spec.n,
        body: () => task,
        ids: (json) => [(json as Task).id],
      });
    }
    if (spec.path === 'single') {
      return closedLoop({
        url: `${this.system.gatewayUrl}/v1/tasks`,
        concurrency: spec.concurrency,
        requests: spec.n,
        body: () => task,
        ids: (json) => [(json as Task).id],
      });
    }
    const sizes = batchSizes(spec.n, spec.batchSize);
    return closedLoop({
      url: `${this.system.gatewayUrl}/v1/tasks/batch`,
      concurrency: spec.concurrency,
      requests: sizes.length,
      body: (i) => ({ tasks: Array.from({ length: sizes[i]! }, () => task) }),
      ids: (json) => (json as { items: Task[] }).items.map((t) => t.id),
    });
  }

  /** Every task created since the run started, newest first, through tasks.list pages. */
  private async readBack(load: LoadResult, timeoutMs = 180_000): Promise<Map<string, TaskSummary>> {
    const out = new Map<string, TaskSummary>();
    const createdAfter = new Date(load.startEpochMs - 1).toISOString();
    let cursor: string | undefined;
    do {
      const page = await this.store.call(
        'tasks.list',
        { createdAfter, limit: 500, ...(cursor && { cursor }) },
        { timeoutMs },
      );
      for (const t of page.items) out.set(t.id, t);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }

  /** Fallback when events stall: which of the run's tasks the store has as ended. */
  private async terminal(load: LoadResult, timeoutMs: number): Promise<Map<string, string>> {
    const ended = new Map<string, string>();
    const tasks = await this.readBack(load, timeoutMs);
    progress(
      this.o.budget,
      `the store has ${tasks.size} tasks of this run, ${[...tasks.values()].filter((t) => t.finishedAt).length} ended`,
    );
    for (const t of tasks.values()) {
      if (t.finishedAt) ended.set(t.id, t.status);
    }
    return ended;
  }
}
