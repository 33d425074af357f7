/** `tasksctl flow get|list|cancel`: flows (DAGs of tasks) as the store sees them, and cancelling one. */
import { TASK_STATUSES, type Flow, type FlowSummary } from '@tasks/contracts';
import type { StoreCaller, Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { clean, formatAge, formatTime, renderTable, toJson } from '../format.js';
import { ACTOR } from './lifecycle.js';

export interface FlowGetArgs {
  id: string;
  json: boolean;
}

export async function getFlow(client: StoreCaller, args: FlowGetArgs, out: Writer): Promise<ExitCode> {
  const flow = await client.call('flows.get', { id: args.id });
  out.write(args.json ? toJson(flow) : renderFlow(flow));
  return EXIT.ok;
}

/**
 * One header line, then a table of the nodes in the flow's own order. Results are left to
 * `--json`: they can be large, and `tasksctl get <task id>` shows one node in full.
 */
export function renderFlow(flow: Flow, now: number = Date.now()): string {
  const header = [
    `flow ${flow.id}`,
    `name: ${flow.name ?? '-'}`,
    `status: ${flow.status}`,
    `policy: ${flow.failurePolicy}`,
    `created: ${formatTime(flow.createdAt, now)}`,
  ];
  if (flow.cancelledAt) header.push(`cancelled: ${formatTime(flow.cancelledAt, now)}`);
  const nodes = renderTable(
    [
      { header: 'key' },
      { header: 'status' },
      { header: 'type' },
      { header: 'depends on' },
      { header: 'task id' },
      { header: 'error' },
    ],
    flow.nodes.map((n) => [
      n.key,
      n.status,
      n.type,
      // Comma without a space: one token per cell keeps the columns easy to cut.
      n.dependsOn.length > 0 ? n.dependsOn.join(',') : '-',
      n.taskId,
      n.error?.code ?? '',
    ]),
  );
  return clean(header.join('  ')) + '\n' + nodes;
}

export interface FlowListArgs {
  limit?: number;
  cursor?: string;
  json: boolean;
}

export async function listFlows(client: StoreCaller, args: FlowListArgs, out: Writer): Promise<ExitCode> {
  const { json, ...params } = args;
  const page = await client.call('flows.list', params);
  if (json) {
    out.write(toJson(page));
    return EXIT.ok;
  }
  out.write(page.items.length > 0 ? renderFlowTable(page.items) : 'no flows\n');
  // Same last line as `tasksctl list`, so that scripts read both pages the same way.
  if (page.nextCursor) out.write(`next cursor: ${page.nextCursor}\n`);
  return EXIT.ok;
}

export function renderFlowTable(flows: readonly FlowSummary[], now: number = Date.now()): string {
  return renderTable(
    [
      { header: 'id' },
      { header: 'name' },
      { header: 'status' },
      { header: 'nodes', align: 'right' },
      { header: 'by status' },
      { header: 'created', align: 'right' },
    ],
    flows.map((f) => [
      f.id,
      f.name ?? '-',
      f.status,
      String(f.nodeCount),
      countsByStatus(f.byStatus),
      `${formatAge(f.createdAt, now)} ago`,
    ]),
  );
}

/** "succeeded 3, running 1": in the lifecycle order of TASK_STATUSES, zero counts left out. */
function countsByStatus(byStatus: FlowSummary['byStatus']): string {
  const parts = TASK_STATUSES.flatMap((s) => (byStatus[s] ? [`${s} ${byStatus[s]}`] : []));
  return parts.length > 0 ? parts.join(', ') : '-';
}

export interface FlowCancelArgs {
  id: string;
  json: boolean;
}

/**
 * Cancels every node not yet ended. Repeating it is harmless: the second call cancels nothing and
 * says so, rather than failing like `tasksctl cancel` of an ended task.
 */
export async function cancelFlow(client: StoreCaller, args: FlowCancelArgs, out: Writer): Promise<ExitCode> {
  const answer = await client.call('flows.cancel', { id: args.id, by: ACTOR });
  if (args.json) {
    out.write(toJson(answer));
    return EXIT.ok;
  }
  const n = answer.cancelled.length;
  out.write(
    clean(`flow ${answer.flow.id} is ${answer.flow.status}, ${n} node${n === 1 ? '' : 's'} cancelled`) + '\n',
  );
  return EXIT.ok;
}
