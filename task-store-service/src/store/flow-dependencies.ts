/**
 * How a flow node learns that its dependencies ended (docs/flows.md). Whenever a node with
 * dependents ends (or is retried), each dependent is told, through the same fenced change as any
 * other: the tells of dependencies that end at the same moment are applied one after the other,
 * so exactly one of them finds every dependency ended and queues the node. A wakeup entry,
 * written before the dependency's own change, survives a crash between that change and the
 * tells; the flow keeper (flow-keeper.ts) finishes what it finds.
 */
import {
  DEPENDENCY_FAILED,
  TERMINAL_STATUSES,
  type DependencyResults,
  type TaskError,
  type TaskStatus,
} from '@tasks/contracts';
import type { Collections } from './collections.js';
import type { DependencyState, FlowNodeFields, TaskDoc } from './documents.js';
import { applyChange, type ApplyOptions, type Change } from './fenced-update.js';
import { outboxEntry } from './task-creation.js';
import { recordWakeups, retellId, waitsAgain, wakeupId } from './flow-wakeups.js';
import { appendHistory } from './task-history.js';

/** The results one node receives from its dependencies, in all, in bytes of JSON (docs/flows.md). */
export const MAX_DEPENDENCY_RESULTS_BYTES = 4 * 1024 * 1024;

const isTerminal = (s: TaskStatus): boolean => TERMINAL_STATUSES.includes(s);

/**
 * What every task change writes first: an outbox entry for a version that is queued, and the
 * wakeup entries of a flow node that ends, stops having ended, or waits again.
 */
export function writeOptions(collections: Collections): ApplyOptions {
  return {
    beforeWrite: async (next, prev) => {
      if (next.status === 'queued')
        await collections.inserts.outbox.insert(outboxEntry(next, next.updatedAt));
      if (next.flow) await recordWakeups(collections, prev, next);
    },
  };
}

/**
 * Tells every dependent of `doc` how it stands now, and theirs in turn when that ends or reopens
 * them. Returns the nodes whose status this changed (queued, cancelled, waiting again), for the
 * caller to publish and announce. Repeatable: a tell that changes nothing writes nothing.
 */
export async function settleDependents(
  collections: Collections,
  doc: TaskDoc,
  by = 'flow',
): Promise<TaskDoc[]> {
  if (!doc.flow || doc.flow.dependents.length === 0) return [];
  const changed: TaskDoc[] = [];
  for (const id of doc.flow.dependents) changed.push(...(await tell(collections, id, doc, by)));
  await collections.flowWakeups.deleteOne({ _id: wakeupId(doc._id, doc.version) });
  return changed;
}

/**
 * A node waiting again after it had ended (a manual retry, or reopened because a failed
 * dependency was retried) may have missed tells while it had ended: it is told anew how each
 * dependency stands. A change of a dependency after this read tells it in turn, and a tell about
 * an older version is ignored, so none is lost. Finishes its `retell` wakeup entry.
 */
export async function retell(collections: Collections, node: TaskDoc, by = 'flow'): Promise<TaskDoc[]> {
  if (!node.flow) return [];
  const changed: TaskDoc[] = [];
  for (const d of node.flow.dependsOn) {
    const dep = await collections.tasks.findOne({ _id: d.taskId });
    if (dep) changed.push(...(await tell(collections, node._id, dep, by)));
  }
  await collections.flowWakeups.deleteOne({ _id: retellId(node._id, node.version) });
  return changed;
}

/** Tells node `id` how `dep` stands; then what follows from the node's own change, if any. */
async function tell(collections: Collections, id: string, dep: TaskDoc, by: string): Promise<TaskDoc[]> {
  let before: TaskStatus | undefined;
  const after = await applyChange(
    collections,
    id,
    (node, now) => {
      before = node.status;
      return decide(node, dep, by, now);
    },
    writeOptions(collections),
  );
  if (after.status === before) return [];
  const changed = [after];
  // Cancelled because of this one, or reopened: its own dependents are told in turn.
  if (isTerminal(after.status) !== isTerminal(before!))
    changed.push(...(await settleDependents(collections, after, by)));
  if (waitsAgain({ ...after, status: before! }, after))
    changed.push(...(await retell(collections, after, by)));
  return changed;
}

function stateOf(dep: TaskDoc, key: string): DependencyState {
  const ended = isTerminal(dep.status);
  return {
    key,
    taskId: dep._id,
    version: dep.version,
    status: ended ? (dep.status as DependencyState['status']) : 'pending',
    resultBytes:
      dep.status === 'succeeded' && dep.resultJson !== null ? Buffer.byteLength(dep.resultJson) : 0,
    error: ended && dep.status !== 'succeeded' ? dep.error : null,
  };
}

/** What node `node` records when told how dependency `dep` stands, and where that moves it. */
function decide(node: TaskDoc, dep: TaskDoc, by: string, now: Date): Change | null {
  const f = node.flow!;
  const key = f.dependsOn.find((d) => d.taskId === dep._id)?.key;
  if (key === undefined) return null;
  const prior = f.told.find((t) => t.key === key);
  if (prior && prior.version >= dep.version) return null; // already told this, or something newer
  const state = stateOf(dep, key);
  // Still not ended: nothing new. (A first `pending` is recorded: it outranks an older tell.)
  if (state.status === 'pending' && prior?.status === 'pending') return null;
  const told = [...f.told.filter((t) => t.key !== key), state];
  const reopenable = node.status === 'cancelled' && node.error?.code === DEPENDENCY_FAILED;
  // Already queued or past it (a `continue` flow, or cancelled for another reason): nothing to do.
  if (node.status !== 'waiting' && !reopenable) return null;
  const next = nextStatus(f, told);
  const flow: FlowNodeFields = { ...f, told };
  if (next === node.status) return { flow };
  const history = (status: TaskStatus, error?: TaskError) =>
    appendHistory(node, { status, at: now, by, attempt: node.attempts, ...(error && { error }) });
  const cancelled = (message: string): Change => {
    const error: TaskError = { code: DEPENDENCY_FAILED, message, retryable: false };
    return { status: 'cancelled', error, finishedAt: now, flow, ...history('cancelled', error) };
  };
  if (next === 'cancelled') {
    const failed = told.find((t) => t.status === 'failed' || t.status === 'cancelled')!;
    return cancelled(`dependency "${failed.key}" ${failed.status}`);
  }
  if (next === 'waiting') {
    return { status: 'waiting', error: null, finishedAt: null, flow, ...history('waiting') };
  }
  const bytes = told.reduce((n, t) => n + t.resultBytes, 0);
  if (bytes > MAX_DEPENDENCY_RESULTS_BYTES) {
    return cancelled(
      `its dependencies' results take ${bytes} bytes, more than ${MAX_DEPENDENCY_RESULTS_BYTES}`,
    );
  }
  return {
    status: 'queued',
    runAt: new Date(Math.max(now.getTime(), node.runAt.getTime())),
    error: null,
    finishedAt: null,
    flow: { ...flow, queuedWith: told },
    ...history('queued'),
  };
}

/** Where the dependencies say a node stands: fail-fast cancels on the first failure. */
export function nextStatus(f: FlowNodeFields, told: DependencyState[]): 'waiting' | 'queued' | 'cancelled' {
  const ended = told.filter((t) => t.status !== 'pending');
  if (f.policy === 'fail-fast' && ended.some((t) => t.status !== 'succeeded')) return 'cancelled';
  return ended.length === f.dependsOn.length ? 'queued' : 'waiting';
}

/**
 * The `dependencyResults` of a queued (or later) node: how each dependency ended, as recorded
 * when the node was queued, with the results of those that succeeded read from them (a succeeded
 * task never changes). Undefined for a task outside a flow, or a node not queued yet.
 */
export async function dependencyResults(
  collections: Collections,
  doc: TaskDoc,
): Promise<DependencyResults | undefined> {
  const queuedWith = doc.flow?.queuedWith;
  if (!queuedWith) return undefined;
  const entries = await Promise.all(
    [...queuedWith]
      .sort((a, b) => (a.key < b.key ? -1 : 1))
      .map(async (t) => {
        const result =
          t.status === 'succeeded'
            ? ((await collections.tasks.findOne({ _id: t.taskId }, { projection: { resultJson: 1 } }))
                ?.resultJson ?? null)
            : null;
        return [
          t.key,
          {
            taskId: t.taskId,
            status: t.status as 'succeeded' | 'failed' | 'cancelled',
            result: result === null ? null : (JSON.parse(result) as unknown),
            error: t.error,
          },
        ] as const;
      }),
  );
  return Object.fromEntries(entries);
}

/** A node with no dependencies, just created: queued at once (waiting → queued). */
export function queueRoot(collections: Collections, id: string): Promise<TaskDoc> {
  return applyChange(
    collections,
    id,
    (node, now) => {
      if (node.status !== 'waiting' || node.flow!.dependsOn.length > 0) return null;
      return {
        status: 'queued',
        runAt: new Date(Math.max(now.getTime(), node.runAt.getTime())),
        flow: { ...node.flow!, queuedWith: [] },
        ...appendHistory(node, { status: 'queued', at: now, by: 'flow', attempt: 0 }),
      };
    },
    writeOptions(collections),
  );
}

/** The flow keeper's step for a `dependents` entry: the task as it is now tells its dependents. */
export async function settleById(collections: Collections, id: string): Promise<TaskDoc[]> {
  const doc = await collections.tasks.findOne({ _id: id });
  return doc ? settleDependents(collections, doc) : [];
}

/** The flow keeper's step for a `retell` entry. */
export async function retellById(collections: Collections, id: string): Promise<TaskDoc[]> {
  const doc = await collections.tasks.findOne({ _id: id });
  return doc?.status === 'waiting' ? retell(collections, doc) : [];
}
