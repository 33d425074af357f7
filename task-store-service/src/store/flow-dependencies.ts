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
  HISTORY_LIMIT,
  TERMINAL_STATUSES,
  type TaskError,
  type TaskStatus,
} from '@tasks/contracts';
import { isAppError } from '../app-error.js';
import type { Collections } from './collections.js';
import type { DependencyState, FlowNodeFields, HistoryDoc, TaskDoc } from './documents.js';
import { applyChange, type ApplyOptions, type Change } from './fenced-update.js';
import { outboxEntry } from './task-creation.js';
import { concernsDependents, recordDependentsWakeup, wakeupId } from './flow-wakeups.js';

/** The results one node receives from its dependencies, in all (docs/flows.md). */
export const MAX_DEPENDENCY_RESULTS_BYTES = 4 * 1024 * 1024;

const isTerminal = (s: TaskStatus): boolean => TERMINAL_STATUSES.includes(s);

/**
 * What every task change writes first: an outbox entry for a version that is queued, and a wakeup
 * entry when a node with dependents ends or stops having ended.
 */
export function writeOptions(c: Collections): ApplyOptions {
  return {
    beforeWrite: async (next, prev) => {
      if (next.status === 'queued') await c.inserts.outbox.insert(outboxEntry(next, next.updatedAt));
      if (concernsDependents(prev, next)) await recordDependentsWakeup(c, next);
    },
  };
}

/**
 * Tells every dependent of `doc` how it stands now, and theirs in turn when that ends or reopens
 * them. Returns the nodes that became queued (for the caller to publish). Repeatable: a tell that
 * changes nothing writes nothing.
 */
export async function settleDependents(c: Collections, doc: TaskDoc, by = 'flow'): Promise<TaskDoc[]> {
  if (!doc.flow || doc.flow.dependents.length === 0) return [];
  const queued: TaskDoc[] = [];
  for (const id of doc.flow.dependents) queued.push(...(await tell(c, id, doc, by)));
  await c.flowWakeups.deleteOne({ _id: wakeupId(doc._id, doc.version) });
  return queued;
}

/**
 * A node that waits again after a manual retry may have missed tells while it had ended (they
 * are dropped then): it is told again how each dependency stands now. Any change of a dependency
 * after this read tells it in turn; a tell about an older version is ignored, so none is lost.
 */
export async function retell(c: Collections, node: TaskDoc, by = 'flow'): Promise<TaskDoc[]> {
  if (!node.flow || node.status !== 'waiting') return [];
  const queued: TaskDoc[] = [];
  for (const d of node.flow.dependsOn) {
    const dep = await c.tasks.findOne({ _id: d.taskId });
    if (dep) queued.push(...(await tell(c, node._id, dep, by)));
  }
  return queued;
}

/** Tells node `id` how `dep` stands; then its own dependents, when that ends or reopens it. */
async function tell(c: Collections, id: string, dep: TaskDoc, by: string): Promise<TaskDoc[]> {
  let before: TaskStatus | undefined;
  const after = await applyChange(
    c,
    id,
    (node, now) => {
      before = node.status;
      return decide(node, dep, by, now);
    },
    writeOptions(c),
  );
  if (after.status === before) return [];
  const queued = after.status === 'queued' ? [after] : [];
  // Cancelled because of this one, or reopened: its own dependents are told in turn.
  if (isTerminal(after.status) !== isTerminal(before!))
    queued.push(...(await settleDependents(c, after, by)));
  return queued;
}

function stateOf(dep: TaskDoc, key: string): DependencyState {
  const ended = isTerminal(dep.status);
  return {
    key,
    taskId: dep._id,
    version: dep.version,
    status: ended ? (dep.status as DependencyState['status']) : 'pending',
    resultJson: dep.status === 'succeeded' ? dep.resultJson : null,
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
  // Not ended, and not known to have ended: nothing to record (a retryable failure, a release).
  if (state.status === 'pending' && (prior === undefined || prior.status === 'pending')) return null;
  const told = [...f.told.filter((t) => t.key !== key), state];
  const reopenable = node.status === 'cancelled' && node.error?.code === DEPENDENCY_FAILED;
  // Already queued or past it (a `continue` flow, or cancelled for another reason): nothing to do.
  if (node.status !== 'waiting' && !reopenable) return null;
  const next = nextStatus(f, told);
  const flow: FlowNodeFields = { ...f, told };
  if (next === node.status) return { flow };
  const history = (status: TaskStatus, error?: TaskError): HistoryDoc[] =>
    [...node.history, { status, at: now, by, attempt: node.attempts, ...(error && { error }) }].slice(
      -HISTORY_LIMIT,
    );
  if (next === 'cancelled') {
    const failed = told.find((t) => t.status === 'failed' || t.status === 'cancelled')!;
    const error: TaskError = {
      code: DEPENDENCY_FAILED,
      message: `dependency "${failed.key}" ${failed.status}`,
      retryable: false,
    };
    return {
      status: 'cancelled',
      error,
      finishedAt: now,
      flow,
      history: history('cancelled', error),
    };
  }
  if (next === 'waiting') {
    return { status: 'waiting', error: null, finishedAt: null, flow, history: history('waiting') };
  }
  const resultsJson = dependencyResultsJson(told);
  if (resultsJson.length > MAX_DEPENDENCY_RESULTS_BYTES) {
    const error: TaskError = {
      code: DEPENDENCY_FAILED,
      message: `the results of its dependencies take ${resultsJson.length} bytes, more than ${MAX_DEPENDENCY_RESULTS_BYTES}`,
      retryable: false,
    };
    return { status: 'cancelled', error, finishedAt: now, flow, history: history('cancelled', error) };
  }
  return {
    status: 'queued',
    runAt: new Date(Math.max(now.getTime(), node.runAt.getTime())),
    flow: { ...flow, dependencyResultsJson: resultsJson },
    history: history('queued'),
  };
}

/** Where the dependencies say a node stands: fail-fast cancels on the first failure. */
export function nextStatus(f: FlowNodeFields, told: DependencyState[]): 'waiting' | 'queued' | 'cancelled' {
  const ended = told.filter((t) => t.status !== 'pending');
  if (f.policy === 'fail-fast' && ended.some((t) => t.status !== 'succeeded')) return 'cancelled';
  return ended.length === f.dependsOn.length ? 'queued' : 'waiting';
}

/** The `dependencyResults` a node's handler receives, as JSON text (results are already JSON). */
function dependencyResultsJson(told: DependencyState[]): string {
  const parts = [...told]
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map(
      (t) =>
        `${JSON.stringify(t.key)}:{"taskId":${JSON.stringify(t.taskId)},"status":${JSON.stringify(t.status)},"result":${t.resultJson ?? 'null'},"error":${JSON.stringify(t.error)}}`,
    );
  return `{${parts.join(',')}}`;
}

/** A node with no dependencies, just created: queued at once (waiting → queued). */
export function queueRoot(c: Collections, id: string): Promise<TaskDoc> {
  return applyChange(
    c,
    id,
    (node, now) => {
      if (node.status !== 'waiting' || node.flow!.dependsOn.length > 0) return null;
      return {
        status: 'queued',
        runAt: new Date(Math.max(now.getTime(), node.runAt.getTime())),
        flow: { ...node.flow!, dependencyResultsJson: '{}' },
        history: [...node.history, { status: 'queued', at: now, by: 'flow', attempt: 0 }],
      };
    },
    writeOptions(c),
  );
}

/** Runs `settle` on a task looked up by id, ignoring one that is gone. */
export async function settleById(c: Collections, id: string): Promise<TaskDoc[]> {
  const doc = await c.tasks.findOne({ _id: id });
  if (!doc) return [];
  try {
    return await settleDependents(c, doc);
  } catch (err) {
    if (isAppError(err) && err.type === 'TASK_NOT_FOUND') return [];
    throw err;
  }
}
