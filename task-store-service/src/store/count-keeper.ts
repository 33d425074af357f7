/**
 * Keeps this process's counts flowing (docs/stats.md): flushes its deltas every FLUSH_MS (and
 * every IDLE_FLUSH_MS without any, as a sign of life), watches the other writers, and recounts
 * when the counts cannot be trusted: no base yet, a dead writer, or a request.
 */
import { HISTORY_LIMIT } from '@tasks/contracts';
import type { Logger } from 'pino';
import { performance } from 'node:perf_hooks';
import { AppError } from '../app-error.js';
import type { Collections } from './collections.js';
import type { CountFenceDoc, CountWriterDoc } from './documents.js';
import {
  absorbStopped,
  readCountDocs,
  recount,
  requestRecount,
  WriterWatch,
  type RecountResult,
} from './count-recount.js';

export const FLUSH_MS = 250;
const IDLE_FLUSH_MS = 2_000;
const CHECK_MS = 2_000;
/** A base fence held this long (its holder died mid-recount) is broken. */
const FENCE_BREAK_MS = 10 * 60_000;
/** How long tasks.recount waits for another process's recount before answering BUSY. */
const ADMIN_WAIT_MS = 120_000;

export interface CountKeeperOptions {
  /** A writer document unchanged this long (by this process's clock) belongs to a dead writer. */
  deadWriterMs: number;
}

export class CountKeeper {
  private readonly watch: WriterWatch;
  private readonly fenceSeen = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> | null = null;
  private lastFlush = 0;
  private checking = false;
  private recounting: Promise<RecountResult | null | 'unsettled'> | null = null;

  constructor(
    private readonly collections: Collections,
    private readonly log: Logger,
    options: CountKeeperOptions,
  ) {
    this.watch = new WriterWatch(options.deadWriterMs);
  }

  start(): void {
    const flushTimer = setInterval(() => {
      if (this.collections.countWriter.hasPending || performance.now() - this.lastFlush >= IDLE_FLUSH_MS)
        this.flush().catch((err: unknown) => this.log.warn({ err }, 'task counts flush failed'));
    }, FLUSH_MS);
    const checkTimer = setInterval(() => {
      this.check().catch((err: unknown) => this.log.warn({ err }, 'task counts check failed'));
    }, CHECK_MS);
    this.timers = [flushTimer, checkTimer];
    for (const t of this.timers) t.unref();
  }

  /** One flush at a time; a caller arriving during one waits for it and then flushes again. */
  async flush(stopped = false): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    this.flushing = (async () => {
      const wanted = this.collections.countWriter.takeRecountRequest();
      if (wanted !== null) {
        this.log.warn({ reason: wanted }, 'task counts need a recount');
        await requestRecount(this.collections.taskCounts, wanted);
      }
      await this.collections.countWriter.flush(this.collections.taskCounts, stopped);
      this.lastFlush = performance.now();
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const docs = await readCountDocs(this.collections.taskCounts);
      this.watch.observe(docs.writers);
      await this.breakStaleFences(docs.fences, docs.writers);
      const retired = new Set(docs.base?.retired ?? []);
      const dead = docs.writers.filter((w) => !retired.has(w._id) && this.watch.isDead(w));
      const reason =
        docs.base === null
          ? 'no base'
          : docs.requests.length > 0
            ? 'requested'
            : dead.length > 0
              ? 'dead writer'
              : null;
      if (reason !== null) {
        const r = await this.recountOnce();
        if (r === null) {
          this.log.info({ reason }, 'task recount left to the holder of the counts fence');
          // The retention sweeper steps aside for a requested recount (docs/retention.md).
          const now = await readCountDocs(this.collections.taskCounts);
          if (now.requests.length === 0 && now.fences.some((f) => f.purpose === 'removal'))
            await requestRecount(this.collections.taskCounts, reason);
        } else if (r === 'unsettled')
          this.log.info({ reason }, 'task recount put off: a writer has not passed the cut');
        else
          this.log.info(
            { reason, tasks: r.tasks, ms: r.ms, dead: dead.map((w) => w._id) },
            'tasks recounted',
          );
        return;
      }
      const stopped = docs.writers.filter((w) => w.stopped && !retired.has(w._id));
      if (stopped.length > 0) await absorbStopped(this.collections, stopped);
    } finally {
      this.checking = false;
    }
  }

  /** A fence whose holder's writer is dead (killed mid-recount), or held FENCE_BREAK_MS, is broken. */
  private async breakStaleFences(fences: CountFenceDoc[], writers: CountWriterDoc[]): Promise<void> {
    const ids = fences.map((f) => f._id);
    for (const id of this.fenceSeen.keys()) if (!ids.includes(id)) this.fenceSeen.delete(id);
    for (const fence of fences) {
      const since = this.fenceSeen.get(fence._id) ?? performance.now();
      this.fenceSeen.set(fence._id, since);
      const holder = writers.find((w) => w._id === fence.holder);
      if ((holder && this.watch.isDead(holder)) || performance.now() - since > FENCE_BREAK_MS) {
        this.log.warn(
          { fence: fence._id, holder: fence.holder },
          'breaking a task counts fence left by a dead recount',
        );
        await this.collections.taskCounts.deleteOne({ _id: fence._id });
      }
    }
  }

  private recountOnce(): Promise<RecountResult | null | 'unsettled'> {
    this.recounting ??= recount(this.collections, this.watch, () => this.flush(), HISTORY_LIMIT).finally(
      () => {
        this.recounting = null;
      },
    );
    return this.recounting;
  }

  /** tasks.recount: recounts now, waiting for another process's recount to end first. */
  async recountNow(): Promise<RecountResult> {
    const deadline = performance.now() + ADMIN_WAIT_MS;
    for (;;) {
      const r = await this.recountOnce();
      if (r !== null && r !== 'unsettled') return r;
      if (performance.now() > deadline)
        throw new AppError('BUSY', 'the task counts could not be recounted in time; try again');
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  /** Stops the timers and writes the final counts, marked stopped so another store folds them. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.recounting?.catch(() => undefined);
    await this.flush(true);
  }
}
