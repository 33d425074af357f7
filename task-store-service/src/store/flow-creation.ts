/**
 * flows.create (docs/flows.md): checked whole, then written all or nothing — the flow document
 * in state `creating`, every node as a `waiting` task, then `created` and the nodes without
 * dependencies queued. A call that stops part way is finished or undone by the flow keeper.
 */
import { randomUUID } from 'node:crypto';
import type { CreateFlowParams, FailurePolicy, FlowNodeSpec } from '@tasks/contracts';
import { AppError, isDuplicateKey } from '../app-error.js';
import { canonicalJson, sha256 } from './canonical-json.js';
import type { Collections } from './collections.js';
import type { FlowDoc, TaskDoc } from './documents.js';
import { queueRoot } from './flow-dependencies.js';
import { checkGraph } from './flow-graph.js';
import { claimKey } from './idempotency-keys.js';
import { nodesOf } from './flows.js';
import { buildTask, type StoreContext } from './task-creation.js';

/** A creation not finished within this long was interrupted: the flow keeper finishes or undoes it. */
export const FLOW_CREATION_GRACE_MS = 60_000;

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
  const { collections } = ctx;
  checkGraph(p.nodes);
  const now = new Date();
  const policy = p.failurePolicy ?? 'fail-fast';
  let flowId: string = randomUUID();
  let bodyHash: string | null = null;
  if (p.idempotencyKey !== undefined) {
    const { idempotencyKey, ...body } = p;
    bodyHash = sha256(canonicalJson(body));
    const claimed = await claimFlowKey(collections, idempotencyKey, flowId, bodyHash, now);
    if (claimed.existing) {
      const prior = await collections.flows.findOne({ _id: claimed.flowId });
      if (prior?.state === 'created') {
        return { flow: prior, nodes: await nodesOf(collections, prior), created: false, queued: [] };
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
  await collections.flowWakeups.replaceOne(
    { _id: `flow:${flowId}` },
    { kind: 'flow', ref: flowId, at: now },
    { upsert: true },
  );
  await ignoreDuplicate(collections.flows.insertOne(flow));
  await collections.buckets.record([now.getTime()]);
  const counted = collections.countWriter.begin(now);
  try {
    await collections.tasks.insertMany(docs, { ordered: false });
    for (const d of docs) collections.countWriter.created(d.type, d.status, now);
  } catch (err) {
    if (!onlyDuplicates(err)) throw err;
    collections.countWriter.requestRecount('a flow creation was finished by a repeat'); // which ones were in, only a count says
  } finally {
    counted();
  }
  const queued = await commit(collections, flow);
  return {
    flow: { ...flow, state: 'created' },
    nodes: await nodesOf(collections, flow),
    created: true,
    queued,
  };
}

/** The flow exists from here on: its nodes without dependencies are queued, and the wakeup goes. */
async function commit(collections: Collections, flow: FlowDoc): Promise<TaskDoc[]> {
  // Conditional: once created, the flow document is written only by a cancel (cancelledAt).
  await collections.flows.updateOne({ _id: flow._id, state: 'creating' }, { $set: { state: 'created' } });
  // Undone meanwhile by the flow keeper (this call took longer than FLOW_CREATION_GRACE_MS):
  // nothing may be queued. A repeat with the same idempotency key creates it afresh.
  if ((await collections.flows.findOne({ _id: flow._id }))?.state !== 'created')
    throw new AppError('BUSY', 'the flow’s creation took too long and was undone; send it again');
  const queued: TaskDoc[] = [];
  for (const n of flow.nodes) {
    if (n.dependsOn.length > 0) continue;
    const doc = await queueRoot(collections, n.taskId);
    if (doc.status === 'queued') queued.push(doc);
  }
  await collections.flowWakeups.deleteOne({ _id: `flow:${flow._id}` });
  return queued;
}

/**
 * A creation that stopped part way (the flow keeper, after FLOW_CREATION_GRACE_MS): with every node
 * written, it is finished; otherwise what was written is removed, as if the call had never come.
 */
export async function finishCreation(
  collections: Collections,
  flowId: string,
): Promise<'finished' | 'undone' | 'gone'> {
  const flow = await collections.flows.findOne({ _id: flowId });
  if (flow?.state === 'created') {
    await commit(collections, flow); // queues any root still waiting; repeatable
    return 'finished';
  }
  const written = flow ? await collections.tasks.countDocuments({ flowId }) : 0;
  if (flow && written === flow.nodes.length) {
    await commit(collections, flow);
    return 'finished';
  }
  const removed = await collections.tasks.deleteMany({ flowId, status: 'waiting' });
  if (removed.deletedCount > 0)
    collections.countWriter.requestRecount('an interrupted flow creation was undone');
  await collections.flows.deleteOne({ _id: flowId, state: 'creating' });
  await collections.flowWakeups.deleteOne({ _id: `flow:${flowId}` });
  return flow ? 'undone' : 'gone';
}

async function claimFlowKey(
  collections: Collections,
  key: string,
  flowId: string,
  bodyHash: string,
  now: Date,
): Promise<{ existing: boolean; flowId: string }> {
  const ttl = collections.retention.idempotencyKeyTtlSeconds;
  const prior = await claimKey(
    collections.flowIdempotency,
    collections.fences,
    key,
    flowId,
    bodyHash,
    now,
    ttl,
  );
  if (!prior) return { existing: false, flowId };
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
