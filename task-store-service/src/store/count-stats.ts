/**
 * tasks.stats from the maintained counts (docs/stats.md): the base, plus every writer's deltas
 * the base does not hold yet, plus this process's unflushed ones. One read of `task_counts` and
 * one of the executors, however many tasks are stored.
 */
import type { Stats } from '@tasks/contracts';
import type { Collections } from './collections.js';
import { outcomesSince, Tally, toStatsCounts } from './count-tally.js';
import { readCountDocs } from './count-recount.js';
import type { OutcomeBucket } from './documents.js';
import { servedTypes } from './executors.js';
import { scanStats } from './task-queries.js';

export async function stats(collections: Collections): Promise<Stats> {
  const [docs, served] = await Promise.all([readCountDocs(collections.taskCounts), servedTypes(collections)]);
  const { base } = docs;
  // Before the first recount (a new or upgraded database) the counts are taken the old way.
  if (base === null) return scanStats(collections);
  const own = collections.countWriter.id;
  const retired = new Set(base.retired);
  const folded = new Map(base.folded.map((f) => [f.writer, f.counts]));
  const counts = Tally.of(base.counts);
  const outcomes: OutcomeBucket[][] = [base.outcomes];
  for (const w of docs.writers) {
    if (retired.has(w._id) || w._id === own) continue;
    counts.addRows(w.counts).addRows(folded.get(w._id) ?? [], -1);
    outcomes.push(w.outcomes);
  }
  if (!retired.has(own)) {
    const mine = collections.countWriter.totals();
    counts.addTally(mine.counts).addRows(folded.get(own) ?? [], -1);
    outcomes.push([...mine.outcomes].map(([s, o]) => ({ s, ...o })));
  }
  const { byStatus, byType, negative } = toStatsCounts(counts);
  if (negative) collections.countWriter.requestRecount('a count fell below zero');
  const last = outcomesSince(outcomes.flat(), Math.floor((Date.now() - 60_000) / 1000));
  return {
    byStatus,
    byType,
    succeededLastMinute: last.succeeded,
    failedLastMinute: last.failed,
    unservedTypes: Object.entries(byType)
      .filter(([type, n]) => (n.queued ?? 0) > 0 && !served.has(type))
      .map(([type, n]) => ({ type, queued: n.queued ?? 0 })),
  };
}
