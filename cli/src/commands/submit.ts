/** `tasksctl submit <type>`: create a task through the REST gateway, which also publishes it. */
import type { Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { clean, toJson } from '../format.js';
import type { GatewayClient, SubmitBody } from '../gateway-client.js';

export interface SubmitArgs extends SubmitBody {
  idempotencyKey?: string;
  json: boolean;
}

export async function submitTask(
  gateway: Pick<GatewayClient, 'createTask'>,
  args: SubmitArgs,
  out: Writer,
): Promise<ExitCode> {
  const { json, idempotencyKey, ...body } = args;
  const { task, created } = await gateway.createTask(body, idempotencyKey);
  if (json) out.write(toJson(task));
  else if (created) out.write(clean(`task ${task.id} submitted (${task.type}, ${task.status})`) + '\n');
  else
    out.write(clean(`task ${task.id} already submitted with this idempotency key (${task.status})`) + '\n');
  return EXIT.ok;
}
