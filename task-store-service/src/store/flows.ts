/**
 * flows.create, get, list and cancel (docs/flows.md). A flow is a document naming its nodes; each
 * node is an ordinary task that also carries its place in the graph (TaskDoc.flow).
 */
import { randomUUID } from 'node:crypto';
import {
  type CreateFlowParams,
  type FailurePolicy,
  type Flow,
  type FlowNodeSpec,
  type FlowStatus,
  type FlowSummary,
  type TaskStatus,
} from '@tasks/contracts';
import { AppError, isAppError, isDuplicateKey } from '../app-error.js';
import { canonicalJson, sha256 } from './canonical-json.js';
import type { Collections } from './collections.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { FlowDoc, TaskDoc } from './documents.js';
import { queueRoot } from './flow-dependencies.js';
import { cancel } from './task-lifecycle.js';
import { buildTask, type StoreContext } from './task-creation.js';

/** A creation not finished within this long was interrupted: the flow keeper finishes or undoes it. */
export const FLOW_CREATION_GRACE_MS = 60_000;

/** Unknown keys, repeated keys, a node that depends on itself, cycles: one VALIDATION_FAILED for all. */
export function checkGraph(nodes: FlowNodeSpec[]): void {
  const fields: { path: string; message: string }[] = [];
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (index.has(n.key)) fields.push({ path: `/nodes/${i}/key`, message: `repeats the key "${n.key}"` });
    else index.set(n.key, i);
  });
  nodes.forEach((n, i) =>
    (n.dependsOn ?? []).forEach((d, j) => {
      if (!index.has(d))
        fields.push({ path: `/nodes/${i}/dependsOn/${j}`, message: `no node has the key "${d}"` });
      else if (d === n.key)
        fields.push({ path: `/nodes/${i}/dependsOn/${j}`, message: 'a node cannot depend on itself' });
    }),
  );
  if (fields.length === 0) {
    const cycle = findCycle(nodes);
    if (cycle) {
      fields.push({
        path: `/nodes/${index.get(cycle[0]!)}/dependsOn`,
        message: `the dependencies form a cycle: ${cycle.join(' → ')}`,
      });
    }
  }
  if (fields.length > 0) throw new AppError('VALIDATION_FAILED', 'the flow is not a valid graph', { fields });
}

/** Nodes in an order where every node comes after its dependencies (Kahn), or null on a cycle. */
export function topologicalOrder(nodes: { key: string; dependsOn?: string[] }[]): string[] | null {
  const waitingOn = new Map(nodes.map((n) => [n.key, new Set(n.dependsOn ?? [])]));
  const order: string[] = [];
  let ready = nodes.filter((n) => (n.dependsOn ?? []).length === 0).map((n) => n.key);
  while (ready.length > 0) {
    order.push(...ready);
    const done = new Set(ready);
    ready = [];
    for (const [key, deps] of waitingOn) {
      if (deps.size === 0) continue;
      for (const d of done) deps.delete(d);
      if (deps.size === 0) ready.push(key);
    }
  }
  return order.length === nodes.length ? order : null;
}

/** One cycle, as keys with the first repeated at the end, when there is one. */
function findCycle(nodes: FlowNodeSpec[]): string[] | null {
  if (topologicalOrder(nodes) !== null) return null;
  const deps = new Map(nodes.map((n) => [n.key, n.dependsOn ?? []]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (key: string): string[] | null => {
    if (state.get(key) === 'done') return null;
    if (state.get(key) === 'open') return [...path.slice(path.indexOf(key)), key];
    state.set(key, 'open');
    path.push(key);
    for (const d of deps.get(key) ?? []) {
      const found = visit(d);
      if (found) return found;
    }
    path.pop();
    state.set(key, 'done');
    return null;
  };
  for (const n of nodes) {
    const found = visit(n.key);
    if (found) return found;
  }
  return null;
}

const nodeTaskId = (flowId: string, key: string): string => `${flowId}.${key}`;

/** The flow's nodes as tasks, all `waiting`: checked against their types like any task. */
async function buildNodes(
  ctx: StoreContext,
  flowId: string,
  nodes: FlowNodeSpec[],
  policy: FailurePolicy,
  now: Date,
): Promise<TaskDoc[]> {
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.key, []]));
  for (const n of nodes)
    for (const d of n.dependsOn ?? []) dependents.get(d)!.push(nodeTaskId(flowId, n.key));
  const docs: TaskDoc[] = [];
  for (const [i, n] of nodes.entries()) {
    const { key, dependsOn = [], ...task } = n;
    const doc = await buildTask(ctx, task, now, `/nodes/${i}`);
    docs.push({
      ...doc,
      _id: nodeTaskId(flowId, key),
      status: 'waiting',
      history: [{ status: 'waiting', at: now, by: 'create', attempt: 0 }],
      flowId,
      flow: {
        key,
        policy,
        dependsOn: dependsOn.map((d) => ({ key: d, taskId: nodeTaskId(flowId, d) })),
        dependents: dependents.get(key)!,
        told: [],
        queuedWith: null,
      },
    });
  }
  return docs;
}

export interface CreatedFlow {
  flow: FlowDoc;
  nodes: TaskDoc[];
  created: boolean;
  /** The nodes queued by this call (those without dependencies), for the caller to publish. */
  queued: TaskDoc[];
}

export async function createFlow(ctx: StoreContext, p: CreateFlowParams): Promise<CreatedFlow> {
  const { c } = ctx;
  checkGraph(p.nodes);
  const now = new Date();
  const policy = p.failurePolicy ?? 'fail-fast';
  let flowId: string = randomUUID();
  let bodyHash: string | null = null;
  if (p.idempotencyKey !== undefined) {
    const { idempotencyKey, ...body } = p;
    bodyHash = sha256(canonicalJson(body));
    const claimed = await claimKey(c, idempotencyKey, flowId, bodyHash, now);
    if (claimed.existing) {
      const prior = await c.flows.findOne({ _id: claimed.flowId });
      if (prior?.state === 'created') {
        return { flow: prior, nodes: await nodesOf(c, prior), created: false, queued: [] };
      }
      flowId = claimed.flowId; // the first call stopped part way: this one finishes it
    }
  }
  // Validated in full before anything is written.
  const docs = await buildNodes(ctx, flowId, p.nodes, policy, now);
  const flow: FlowDoc = {
    _id: flowId,
    name: p.name ?? null,
    failurePolicy: policy,
    state: 'creating',
    nodes: docs.map((d) => ({
      key: d.flow!.key,
      taskId: d._id,
      type: d.type,
      dependsOn: d.flow!.dependsOn.map((x) => x.key),
    })),
    createdAt: now,
    cancelledAt: null,
    idempotencyKey: p.idempotencyKey ?? null,
    bodyHash,
  };
  // First the wakeup: should this call stop part way, the flow keeper finishes or undoes it. A
  // repeat that finishes an earlier call's creation moves it to now: the keeper waits again.
  await c.flowWakeups.replaceOne(
    { _id: `flow:${flowId}` },
    { kind: 'flow', ref: flowId, at: now },
    { upsert: true },
  );
  await ignoreDuplicate(c.flows.insertOne(flow));
  await c.buckets.record([now.getTime()]);
  const counted = c.countWriter.begin(now);
  try {
    await c.tasks.insertMany(docs, { ordered: false });
    for (const d of docs) c.countWriter.created(d.type, d.status, now);
  } catch (err) {
    if (!onlyDuplicates(err)) throw err;
    c.countWriter.requestRecount('a flow creation was finished by a repeat'); // which ones were in, only a count says
  } finally {
    counted();
  }
  const queued = await commit(c, flow);
  return { flow: { ...flow, state: 'created' }, nodes: await nodesOf(c, flow), created: true, queued };
}

/** The flow exists from here on: its nodes without dependencies are queued, and the wakeup goes. */
async function commit(c: Collections, flow: FlowDoc): Promise<TaskDoc[]> {
  // Conditional: once created, the flow document is written only by a cancel (cancelledAt).
  await c.flows.updateOne({ _id: flow._id, state: 'creating' }, { $set: { state: 'created' } });
  // Undone meanwhile by the flow keeper (this call took longer than FLOW_CREATION_GRACE_MS):
  // nothing may be queued. A repeat with the same idempotency key creates it afresh.
  if ((await c.flows.findOne({ _id: flow._id }))?.state !== 'created')
    throw new AppError('BUSY', 'the flow’s creation took too long and was undone; send it again');
  const queued: TaskDoc[] = [];
  for (const n of flow.nodes) {
    if (n.dependsOn.length > 0) continue;
    const doc = await queueRoot(c, n.taskId);
    if (doc.status === 'queued') queued.push(doc);
  }
  await c.flowWakeups.deleteOne({ _id: `flow:${flow._id}` });
  return queued;
}

/**
 * A creation that stopped part way (the flow keeper, after FLOW_CREATION_GRACE_MS): with every node
 * written, it is finished; otherwise what was written is removed, as if the call had never come.
 */
export async function finishCreation(
  c: Collections,
  flowId: string,
): Promise<'finished' | 'undone' | 'gone'> {
  const flow = await c.flows.findOne({ _id: flowId });
  if (flow?.state === 'created') {
    await commit(c, flow); // queues any root still waiting; repeatable
    return 'finished';
  }
  const written = flow ? await c.tasks.countDocuments({ flowId }) : 0;
  if (flow && written === flow.nodes.length) {
    await commit(c, flow);
    return 'finished';
  }
  const removed = await c.tasks.deleteMany({ flowId, status: 'waiting' });
  if (removed.deletedCount > 0) c.countWriter.requestRecount('an interrupted flow creation was undone');
  await c.flows.deleteOne({ _id: flowId, state: 'creating' });
  await c.flowWakeups.deleteOne({ _id: `flow:${flowId}` });
  return flow ? 'undone' : 'gone';
}

async function claimKey(
  c: Collections,
  key: string,
  flowId: string,
  bodyHash: string,
  now: Date,
): Promise<{ existing: boolean; flowId: string }> {
  try {
    await c.flowIdempotency.insertOne({ _id: key, taskId: flowId, bodyHash, at: now });
    return { existing: false, flowId };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const prior = await c.flowIdempotency.findOne({ _id: key });
  if (!prior) throw new AppError('BUSY', 'idempotency key is being changed; try again');
  if (prior.bodyHash !== bodyHash) {
    throw new AppError('IDEMPOTENCY_CONFLICT', 'this idempotency key was used with a different body', {
      flowId: prior.taskId,
    });
  }
  return { existing: true, flowId: prior.taskId };
}

async function ignoreDuplicate(p: Promise<unknown>): Promise<void> {
  await p.catch((err: unknown) => {
    if (!isDuplicateKey(err)) throw err;
  });
}

function onlyDuplicates(err: unknown): boolean {
  const writeErrors = (err as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.length > 0 && list.every((e) => (e as { code?: unknown }).code === 11000);
}

/** The flow's node tasks, in the flow's own order. */
async function nodesOf(c: Collections, flow: FlowDoc): Promise<TaskDoc[]> {
  const docs = await c.tasks.find({ flowId: flow._id }).toArray();
  const byId = new Map(docs.map((d) => [d._id, d]));
  return flow.nodes.flatMap((n) => byId.get(n.taskId) ?? []);
}

const ACTIVE: ReadonlySet<TaskStatus> = new Set(['waiting', 'queued', 'running']);

/** Running while any node may still run; then cancelled, succeeded or failed. */
export function flowStatus(flow: FlowDoc, statuses: TaskStatus[]): FlowStatus {
  if (statuses.some((s) => ACTIVE.has(s))) return 'running';
  if (flow.cancelledAt !== null) return 'cancelled';
  return statuses.every((s) => s === 'succeeded') ? 'succeeded' : 'failed';
}

export function flowToWire(flow: FlowDoc, nodes: TaskDoc[]): Flow {
  const byId = new Map(nodes.map((d) => [d._id, d]));
  const wireNodes = flow.nodes.map((n) => {
    const doc = byId.get(n.taskId);
    return {
      key: n.key,
      taskId: n.taskId,
      type: n.type,
      dependsOn: n.dependsOn,
      status: doc?.status ?? 'waiting',
      result:
        doc?.status === 'succeeded' && doc.resultJson !== null
          ? (JSON.parse(doc.resultJson) as unknown)
          : null,
      error: doc?.error ?? null,
    };
  });
  return {
    id: flow._id,
    name: flow.name,
    failurePolicy: flow.failurePolicy,
    status: flowStatus(
      flow,
      wireNodes.map((n) => n.status),
    ),
    createdAt: flow.createdAt.toISOString(),
    cancelledAt: flow.cancelledAt ? flow.cancelledAt.toISOString() : null,
    nodes: wireNodes,
  };
}

async function findFlow(c: Collections, id: string): Promise<FlowDoc> {
  const flow = await c.flows.findOne({ _id: id });
  if (!flow || flow.state !== 'created')
    throw new AppError('FLOW_NOT_FOUND', `no flow with id ${id}`, { id });
  return flow;
}

export async function getFlow(c: Collections, id: string): Promise<Flow> {
  const flow = await findFlow(c, id);
  return flowToWire(flow, await nodesOf(c, flow));
}

export async function listFlows(
  c: Collections,
  p: { limit?: number; cursor?: string },
): Promise<{ items: FlowSummary[]; nextCursor: string | null }> {
  const limit = p.limit ?? 20;
  const after = p.cursor !== undefined ? decodeCursor(p.cursor) : undefined;
  const filter = after
    ? {
        state: 'created' as const,
        $or: [
          { createdAt: { $lt: after.createdAt } },
          { createdAt: after.createdAt, _id: { $lt: after.id } },
        ],
      }
    : { state: 'created' as const };
  const flows = await c.flows
    .find(filter)
    .sort({ createdAt: -1, _id: -1 })
    .limit(limit + 1)
    .toArray();
  const page = flows.slice(0, limit);
  const items: FlowSummary[] = [];
  for (const flow of page) {
    const statuses = (await c.tasks.find({ flowId: flow._id }, { projection: { status: 1 } }).toArray()).map(
      (d) => d.status,
    );
    const byStatus: Partial<Record<TaskStatus, number>> = {};
    for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1;
    items.push({
      id: flow._id,
      name: flow.name,
      failurePolicy: flow.failurePolicy,
      status: flowStatus(flow, statuses),
      createdAt: flow.createdAt.toISOString(),
      cancelledAt: flow.cancelledAt ? flow.cancelledAt.toISOString() : null,
      nodeCount: flow.nodes.length,
      byStatus,
    });
  }
  const last = page.at(-1);
  return {
    items,
    nextCursor:
      flows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last._id }) : null,
  };
}

/**
 * Cancels every node not yet ended, dependents before their dependencies (so that no node is
 * queued by the cancel of another). Returns the nodes it cancelled. Repeatable; a flow that has
 * succeeded or failed is refused (INVALID_TRANSITION): its nodes have all ended.
 */
export async function cancelFlow(
  c: Collections,
  p: { id: string; by?: string },
): Promise<{ flow: Flow; cancelled: TaskDoc[] }> {
  const flow = await findFlow(c, p.id);
  const current = flowToWire(flow, await nodesOf(c, flow));
  // A cancelled flow answers as it is (a repeat); one that ended otherwise has nothing to cancel.
  if (current.status === 'cancelled') return { flow: current, cancelled: [] };
  if (current.status !== 'running') {
    throw new AppError('INVALID_TRANSITION', `cannot cancel a ${current.status} flow`, {
      status: current.status,
      id: flow._id,
    });
  }
  // Should this call stop part way, the flow keeper cancels what is left (cancelNodes).
  const wakeup = `cancel:${flow._id}`;
  await c.flowWakeups.replaceOne(
    { _id: wakeup },
    { kind: 'cancel', ref: flow._id, at: new Date() },
    { upsert: true },
  );
  if (flow.cancelledAt === null) {
    await c.flows.updateOne({ _id: flow._id, cancelledAt: null }, { $set: { cancelledAt: new Date() } });
  }
  const cancelled = await cancelNodes(c, flow, p.by ?? 'api');
  await c.flowWakeups.deleteOne({ _id: wakeup });
  const fresh = await findFlow(c, p.id);
  return { flow: flowToWire(fresh, await nodesOf(c, fresh)), cancelled };
}

/** Cancels every node of `flow` not yet ended, dependents first; returns those it cancelled. */
export async function cancelNodes(c: Collections, flow: FlowDoc, by: string): Promise<TaskDoc[]> {
  const order = topologicalOrder(flow.nodes) ?? flow.nodes.map((n) => n.key);
  const idOf = new Map(flow.nodes.map((n) => [n.key, n.taskId]));
  const cancelled: TaskDoc[] = [];
  for (const key of [...order].reverse()) {
    try {
      cancelled.push(await cancel(c, { id: idOf.get(key)!, by, reason: 'its flow was cancelled' }));
    } catch (err) {
      // Ended already (or gone): nothing to cancel.
      if (!(isAppError(err) && (err.type === 'INVALID_TRANSITION' || err.type === 'TASK_NOT_FOUND')))
        throw err;
    }
  }
  return cancelled;
}

/** The flow keeper's step for a `cancel` entry: a cancel that stopped part way is finished. */
export async function finishCancel(c: Collections, flowId: string): Promise<number> {
  const flow = await c.flows.findOne({ _id: flowId });
  return flow ? (await cancelNodes(c, flow, 'flow-keeper')).length : 0;
}
