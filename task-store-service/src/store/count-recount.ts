/**
 * Makes the counts exact again (docs/stats.md): one full count of the tasks written as the new
 * base, by whoever holds the base's fence, at a cut time every live writer has passed.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { TaskStatus } from '@tasks/contracts';
import type { Collection } from 'mongodb';
import { isDuplicateKey } from '../app-error.js';
import type { Collections } from './collections.js';
import { Deltas, Tally } from './count-tally.js';
import { OUTCOME_WINDOW_S } from './count-writer.js';
import type {
  CountBaseDoc,
  CountFenceDoc,
  CountWriterDoc,
  HistoryDoc,
  OutcomeBucket,
  TaskCountsDoc,
} from './documents.js';

/** Tasks changed this long before the cut are counted from their history (clock skew between replicas). */
export const SKEW_MARGIN_MS = 30_000;
/** How long a recount waits for every live writer to pass the cut. */
const SETTLE_WAIT_MS = 10_000;

export interface CountDocs {
  base: CountBaseDoc | null;
  writers: CountWriterDoc[];
  fences: CountFenceDoc[];
  requests: string[];
}

export async function readCountDocs(coll: Collection<TaskCountsDoc>): Promise<CountDocs> {
  const docs = await coll.find({}).toArray();
  const out: CountDocs = { base: null, writers: [], fences: [], requests: [] };
  for (const d of docs) {
    if (d.role === 'base') out.base = { ...d, _id: 'base' };
    else if (d.role === 'writer') out.writers.push(d);
    else if (d.role === 'fence') out.fences.push(d);
    else out.requests.push(d._id);
  }
  return out;
}

export async function requestRecount(coll: Collection<TaskCountsDoc>, reason: string): Promise<void> {
  await coll.insertOne({ _id: `request:${randomUUID()}`, role: 'request', at: new Date(), reason });
}

/** Which writer documents have stopped changing, by this process's monotonic clock (never their flushedAt). */
export class WriterWatch {
  private readonly seen = new Map<string, { version: number; since: number }>();

  constructor(readonly deadMs: number) {}

  observe(writers: readonly CountWriterDoc[]): void {
    const ids = new Set(writers.map((w) => w._id));
    for (const id of this.seen.keys()) if (!ids.has(id)) this.seen.delete(id);
    for (const w of writers) {
      const s = this.seen.get(w._id);
      if (!s || s.version !== w.version)
        this.seen.set(w._id, { version: w.version, since: performance.now() });
    }
  }

  isDead(w: CountWriterDoc): boolean {
    const s = this.seen.get(w._id);
    return (
      !w.stopped && s !== undefined && s.version === w.version && performance.now() - s.since >= this.deadMs
    );
  }
}

export type Fenced<T> = { done: true; value: T } | { done: false };

/**
 * Runs `run(base)` as the only writer of base version `version + 1`, or answers busy (`done:
 * false`). Also what keeps a recount from counting while tasks are removed (docs/retention.md).
 */
export async function withBaseFence<T>(
  collections: Collections,
  run: (base: CountBaseDoc | null) => Promise<T>,
  options: { purpose?: 'removal'; decline?: (docs: CountDocs) => boolean } = {},
): Promise<Fenced<T>> {
  const coll = collections.taskCounts;
  const docs = await readCountDocs(coll);
  if (options.decline?.(docs)) return { done: false };
  const { base } = docs;
  const version = base?.version ?? 0;
  const fence: CountFenceDoc = {
    _id: `fence:${version}`,
    role: 'fence',
    version,
    at: new Date(),
    holder: collections.countWriter.id,
    ...(options.purpose && { purpose: options.purpose }),
  };
  try {
    await coll.insertOne(fence);
  } catch (err) {
    if (isDuplicateKey(err)) return { done: false };
    throw err;
  }
  try {
    // The base may have moved on between the read and the fence: its fence is not ours to use.
    const current = (await readCountDocs(coll)).base;
    if ((current?.version ?? 0) !== version) return { done: false };
    return { done: true, value: await run(current) };
  } finally {
    await coll.deleteOne({ _id: fence._id });
  }
}

async function writeBase(coll: Collection<TaskCountsDoc>, prior: CountBaseDoc | null, next: CountBaseDoc) {
  if (prior === null) await coll.insertOne(next);
  else {
    const r = await coll.replaceOne({ _id: 'base', version: prior.version }, next);
    if (r.matchedCount === 0) throw new Error('the counts base changed under its fence');
  }
}

function mergeOutcomes(lists: OutcomeBucket[][], nowMs: number): OutcomeBucket[] {
  const since = Math.floor(nowMs / 1000) - OUTCOME_WINDOW_S;
  const m = new Map<number, OutcomeBucket>();
  for (const b of lists.flat()) {
    if (b.s < since) continue;
    const o = m.get(b.s) ?? { s: b.s, succeeded: 0, failed: 0 };
    m.set(b.s, { s: b.s, succeeded: o.succeeded + b.succeeded, failed: o.failed + b.failed });
  }
  return [...m.values()];
}

/**
 * The task's share of a count taken at `cutMs`: its status now, minus the change of every
 * history entry timed at or after the cut (each is one delta some writer timed the same way).
 */
export function countAtCut(
  doc: { type: string; status: TaskStatus; history: HistoryDoc[] },
  cutMs: number,
  historyComplete: boolean,
): Tally {
  const t = new Tally().add(doc.type, doc.status, 1);
  const h = doc.history;
  for (let i = 0; i < h.length; i++) {
    if (h[i]!.at.getTime() < cutMs) continue;
    t.add(doc.type, h[i]!.status, -1);
    if (i > 0) t.add(doc.type, h[i - 1]!.status, 1);
    else if (!historyComplete) return new Tally(); // the status before is gone: taken as created now
  }
  return t;
}

export interface RecountResult {
  tasks: number;
  ms: number;
}

/**
 * One recount: a cut on a whole second after now; wait until every live writer has flushed
 * everything it timed before the cut (or is dead); count the tasks as of the cut; fold each
 * writer's deltas before the cut; retire dead writers. Null when another process holds the fence.
 */
export async function recount(
  collections: Collections,
  watch: WriterWatch,
  flushOwn: () => Promise<void>,
  historyLimit: number,
): Promise<RecountResult | null | 'unsettled'> {
  const t0 = performance.now();
  const coll = collections.taskCounts;
  const r = await withBaseFence(collections, async (prior) => {
    const { requests } = await readCountDocs(coll);
    const cut = (Math.floor(Date.now() / 1000) + 1) * 1000;
    await new Promise((res) => setTimeout(res, Math.max(0, cut - Date.now() + 5)));
    const deadline = performance.now() + SETTLE_WAIT_MS;
    let writers: CountWriterDoc[];
    for (;;) {
      await flushOwn();
      writers = (await readCountDocs(coll)).writers;
      watch.observe(writers);
      const waiting = writers.filter(
        (w) => !w.stopped && w.settledThrough.getTime() < cut && !watch.isDead(w),
      );
      if (waiting.length === 0) break;
      if (performance.now() > deadline) return 'unsettled' as const;
      await new Promise((res) => setTimeout(res, 250));
    }
    // Each task's share comes from one read of it: a $group of the older tasks and a second query
    // for the recent ones would count twice a task that moved from one set to the other between them.
    const before = cut - SKEW_MARGIN_MS;
    const counts = new Tally();
    let tasks = 0;
    const all = collections.tasks.find({}, { projection: { type: 1, status: 1, updatedAt: 1 } });
    for await (const d of all) {
      if (d.updatedAt.getTime() < before) {
        counts.add(d.type, d.status, 1);
        tasks++;
        continue;
      }
      const full = await collections.tasks.findOne(
        { _id: d._id },
        { projection: { type: 1, status: 1, history: 1, historyOffset: 1 } },
      );
      if (!full) continue;
      // Complete when nothing moved out (docs/history.md) and nothing was ever trimmed (before the
      // whole history was kept, documents held the latest HISTORY_LIMIT entries).
      const complete = !full.historyOffset && full.history.length < historyLimit;
      const share = countAtCut(full, cut, complete);
      counts.addTally(share);
      tasks += share.isEmpty ? 0 : 1;
    }
    const dead = writers.filter((w) => watch.isDead(w));
    const live = writers.filter((w) => !watch.isDead(w));
    const now = Date.now();
    const next: CountBaseDoc = {
      _id: 'base',
      role: 'base',
      version: (prior?.version ?? 0) + 1,
      recountedAt: new Date(now),
      through: new Date(cut),
      counts: counts.rows(),
      folded: live.map((w) => ({ writer: w._id, counts: Deltas.fromDoc(w).before(cut).rows() })),
      retired: dead.map((w) => w._id),
      // A dead writer's flushed outcomes stay counted; its unflushed ones are lost (docs/stats.md).
      outcomes: mergeOutcomes([prior?.outcomes ?? [], ...dead.map((w) => w.outcomes)], now),
    };
    await writeBase(coll, prior, next);
    for (const w of dead) {
      const gone = await coll.deleteOne({ _id: w._id, version: w.version });
      // It wrote again after it was judged dead: it was alive, and the base may miss its writes.
      if (gone.deletedCount === 0) await requestRecount(coll, 'a writer judged dead wrote again');
    }
    for (const id of requests) await coll.deleteOne({ _id: id });
    return { tasks, ms: Math.round(performance.now() - t0) };
  });
  return r.done ? r.value : null;
}

/** Folds stopped writers (complete by construction) into the base without counting tasks. */
export async function absorbStopped(collections: Collections, stopped: CountWriterDoc[]): Promise<boolean> {
  const coll = collections.taskCounts;
  const r = await withBaseFence(collections, async (prior) => {
    if (prior === null) return false;
    const counts = Tally.of(prior.counts);
    const folded = new Map(prior.folded.map((f) => [f.writer, f.counts]));
    const retired = new Set(prior.retired);
    const fresh = stopped.filter((w) => !retired.has(w._id));
    for (const w of fresh) {
      counts.addRows(w.counts).addRows(folded.get(w._id) ?? [], -1);
      retired.add(w._id);
    }
    const { writers } = await readCountDocs(coll);
    const present = new Set(writers.map((w) => w._id));
    const now = Date.now();
    await writeBase(coll, prior, {
      ...prior,
      version: prior.version + 1,
      counts: counts.rows(),
      folded: prior.folded.filter((f) => present.has(f.writer) && !retired.has(f.writer)),
      retired: [...retired].filter((id) => present.has(id)),
      outcomes: mergeOutcomes([prior.outcomes, ...fresh.map((w) => w.outcomes)], now),
    });
    for (const w of stopped) await coll.deleteOne({ _id: w._id, version: w.version });
    return true;
  });
  return r.done && r.value;
}
