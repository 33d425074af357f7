/**
 * Flows: tasks that wait for other tasks, as a DAG of nodes (docs/flows.md). Each node is an
 * ordinary task; the flow only names them by key and says which waits for which. (What creates
 * one, CreateFlowParams, is with the other params in methods.ts.)
 */
import type { TaskError, TaskStatus } from './task.js';

export const FLOW_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type FlowStatus = (typeof FLOW_STATUSES)[number];

/**
 * `fail-fast`: a failed or cancelled dependency cancels its dependents (DEPENDENCY_FAILED), and
 * theirs in turn. `continue`: dependents run once every dependency has ended, however it ended.
 */
export const FAILURE_POLICIES = ['fail-fast', 'continue'] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

export const FLOW_LIMITS = {
  /** Nodes in one flow. */
  maxNodes: 100,
  /** A node key: letters, digits, `_` and `-`, so that it is safe as an object key and in a task id. */
  keyPattern: '^[A-Za-z0-9_-]{1,40}$',
} as const;

/** The error code of a flow node cancelled because a dependency failed or was cancelled. */
export const DEPENDENCY_FAILED = 'DEPENDENCY_FAILED';

export interface FlowNode {
  key: string;
  taskId: string;
  type: string;
  dependsOn: string[];
  status: TaskStatus;
  /** The task's result once it succeeded, else null. */
  result: unknown;
  error: TaskError | null;
}

export interface Flow {
  id: string;
  name: string | null;
  failurePolicy: FailurePolicy;
  /** Derived from the nodes (docs/flows.md). */
  status: FlowStatus;
  createdAt: string;
  cancelledAt: string | null;
  nodes: FlowNode[];
}

/** A flow as list pages carry it: node statuses counted, without results. */
export type FlowSummary = Omit<Flow, 'nodes'> & {
  nodeCount: number;
  byStatus: Partial<Record<TaskStatus, number>>;
};
