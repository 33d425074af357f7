/**
 * `tasksctl bulk cancel|retry`: every task matching a filter, through the REST gateway (which
 * publishes retried tasks), with a progress line per page on stderr (docs/tags-and-bulk-actions.md).
 */
import type { BulkAction, BulkFilter } from '@tasks/contracts';
import type { Writer } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { toJson } from '../format.js';
import type { GatewayClient } from '../gateway-client.js';

export interface BulkArgs {
  action: BulkAction;
  filter: BulkFilter;
  dryRun: boolean;
  json: boolean;
}

export async function bulkAction(
  gateway: Pick<GatewayClient, 'bulkAction'>,
  args: BulkArgs,
  out: Writer,
  progress: Writer,
): Promise<ExitCode> {
  const totals = await gateway.bulkAction(
    { action: args.action, filter: args.filter, dryRun: args.dryRun },
    (p) => progress.write(`… ${p.matched} matched, ${p.changed} changed\n`),
  );
  if (args.json) out.write(toJson(totals));
  else if (args.dryRun) out.write(`${totals.matched} tasks would be ${verb(args.action)} (dry run)\n`);
  else out.write(`${totals.changed} of ${totals.matched} matching tasks ${verb(args.action)}\n`);
  return EXIT.ok;
}

const verb = (action: BulkAction) => (action === 'cancel' ? 'cancelled' : 'retried');
