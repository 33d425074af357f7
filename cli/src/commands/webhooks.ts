/** `tasksctl webhooks <task id>` and `tasksctl webhooks redeliver <delivery id>` (docs/webhooks.md). */
import type { WebhookDelivery } from '@tasks/contracts';
import type { StoreCaller, Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { formatTime, renderTable, toJson } from '../format.js';

export async function listWebhooks(
  client: StoreCaller,
  args: { taskId: string; json: boolean },
  out: Writer,
): Promise<ExitCode> {
  const { items } = await client.call('webhooks.list', { taskId: args.taskId });
  if (args.json) out.write(toJson({ items }));
  else out.write(items.length > 0 ? renderDeliveries(items) : 'no webhook deliveries\n');
  return EXIT.ok;
}

export async function redeliverWebhook(
  client: StoreCaller,
  args: { id: string; json: boolean },
  out: Writer,
): Promise<ExitCode> {
  const delivery = await client.call('webhooks.redeliver', { id: args.id });
  out.write(args.json ? toJson(delivery) : `webhook delivery ${delivery.id} is pending again\n`);
  return EXIT.ok;
}

/** One row per delivery, oldest first: what it reports, where it stands, and when it is tried next. */
export function renderDeliveries(items: readonly WebhookDelivery[], now: number = Date.now()): string {
  return renderTable(
    [
      { header: 'id' },
      { header: 'status' },
      { header: 'state' },
      { header: 'attempts', align: 'right' },
      { header: 'last code', align: 'right' },
      { header: 'next attempt' },
      { header: 'last error' },
    ],
    items.map((d) => [
      d.id,
      d.status,
      d.state,
      `${d.attempts}/${d.maxAttempts}`,
      d.lastStatusCode === null ? '-' : String(d.lastStatusCode),
      d.nextAttemptAt === null ? '-' : formatTime(d.nextAttemptAt, now),
      d.lastError ?? '',
    ]),
  );
}
