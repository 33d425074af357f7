/**
 * flows.get, list and cancel (docs/flows.md). A flow is a document naming its nodes; each node is
 * an ordinary task that also carries its place in the graph (TaskDoc.flow). Creation is in
 * flow-creation.ts.
 */
import type { Flow, FlowStatus, FlowSummary, TaskStatus } from '@tasks/contracts';
import { AppError, isAppError } from '../app-error.js';
import type { Collections } from './collections.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { FlowDoc, TaskDoc } from './documents.js';
import { topologicalOrder } from './flow-graph.js';
import { cancel } from './task-lifecycle.js';

export async function nodesOf(collections: Collections, flow: FlowDoc): Promise<TaskDoc[]> {
  const docs = await collections.tasks.find({ flowId: flow._id }).toArray();
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

async function findFlow(collections: Collections, id: string): Promise<FlowDoc> {
  const flow = await collections.flows.findOne({ _id: id });
  if (!flow || flow.state !== 'created')
    throw new AppError('FLOW_NOT_FOUND', `no flow with id ${id}`, { id });
  return flow;
}

export async function getFlow(collections: Collections, id: string): Promise<Flow> {
  const flow = await findFlow(collections, id);
  return flowToWire(flow, await nodesOf(collections, flow));
}

export async function listFlows(
  collections: Collections,
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
  const flows = await collections.flows
    .find(filter)
    .sort({ createdAt: -1, _id: -1 })
    .limit(limit + 1)
    .toArray();
  const page = flows.slice(0, limit);
  const items: FlowSummary[] = [];
  for (const flow of page) {
    const statuses = (
      await collections.tasks.find({ flowId: flow._id }, { projection: { status: 1 } }).toArray()
    ).map((d) => d.status);
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
  collections: Collections,
  p: { id: string; by?: string },
): Promise<{ flow: Flow; cancelled: TaskDoc[] }> {
  const flow = await findFlow(collections, p.id);
  const current = flowToWire(flow, await nodesOf(collections, flow));
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
  await collections.flowWakeups.replaceOne(
    { _id: wakeup },
    { kind: 'cancel', ref: flow._id, at: new Date() },
    { upsert: true },
  );
  if (flow.cancelledAt === null) {
    await collections.flows.updateOne(
      { _id: flow._id, cancelledAt: null },
      { $set: { cancelledAt: new Date() } },
    );
  }
  const cancelled = await cancelNodes(collections, flow, p.by ?? 'api');
  await collections.flowWakeups.deleteOne({ _id: wakeup });
  const fresh = await findFlow(collections, p.id);
  return { flow: flowToWire(fresh, await nodesOf(collections, fresh)), cancelled };
}

/** Cancels every node of `flow` not yet ended, dependents first; returns those it cancelled. */
export async function cancelNodes(collections: Collections, flow: FlowDoc, by: string): Promise<TaskDoc[]> {
  const order = topologicalOrder(flow.nodes) ?? flow.nodes.map((n) => n.key);
  const idOf = new Map(flow.nodes.map((n) => [n.key, n.taskId]));
  const cancelled: TaskDoc[] = [];
  for (const key of [...order].reverse()) {
    try {
      cancelled.push(await cancel(collections, { id: idOf.get(key)!, by, reason: 'its flow was cancelled' }));
    } catch (err) {
      // Ended already (or gone): nothing to cancel.
      if (!(isAppError(err) && (err.type === 'INVALID_TRANSITION' || err.type === 'TASK_NOT_FOUND')))
        throw err;
    }
  }
  return cancelled;
}

/** The flow keeper's step for a `cancel` entry: a cancel that stopped part way is finished. */
export async function finishCancel(collections: Collections, flowId: string): Promise<number> {
  const flow = await collections.flows.findOne({ _id: flowId });
  return flow ? (await cancelNodes(collections, flow, 'flow-keeper')).length : 0;
}
