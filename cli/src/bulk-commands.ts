/** The `tasksctl bulk` group: cancel or retry every task matching a filter, through the gateway. */
import { Option, type Command } from 'commander';
import { TASK_STATUSES, type BulkFilter, type TaskStatus } from '@tasks/contracts';
import type { ExitCode, Writer } from './command.js';
import { bulkAction } from './commands/bulk.js';
import { UsageError } from './exit-codes.js';
import type { GatewayClient } from './gateway-client.js';
import { withGatewayOptions } from './gateway-options.js';
import { collectTag, parseTime } from './options.js';

type WithGateway = (cmd: Command, body: (gateway: GatewayClient) => Promise<ExitCode>) => Promise<void>;

interface BulkOptions {
  status?: TaskStatus;
  type?: string;
  tag?: string[];
  createdBefore?: string;
  createdAfter?: string;
  dryRun?: true;
  json?: true;
}

export function addBulkCommands(
  program: Command,
  withGateway: WithGateway,
  out: Writer,
  progress: Writer,
): void {
  const bulk = program
    .command('bulk')
    .description('cancel or retry every task matching a filter (through the REST gateway)')
    .addHelpText(
      'after',
      `
At least one filter is required; to act on every task, give --created-before 0s (now).
Progress goes to stderr, one line per page of 100 tasks; the same command again changes
only what still matches (docs/tags-and-bulk-actions.md).

Examples:
  tasksctl bulk retry --status failed --type primes.count --dry-run
  tasksctl bulk retry --status failed --type primes.count
  tasksctl bulk cancel --tag nightly-import --created-after 2h`,
    );

  for (const [action, description] of [
    ['cancel', 'cancel every matching waiting, queued or running task (running ones are stopped)'],
    ['retry', 'queue every matching failed or cancelled task again, with a full budget of attempts'],
  ] as const) {
    withGatewayOptions(
      bulk
        .command(action)
        .description(description)
        .addOption(new Option('--status <status>', 'only tasks in this status').choices(TASK_STATUSES))
        .option('--type <type>', 'only tasks of this type')
        .option('--tag <tag>', 'only tasks with this tag (repeat: with every one)', collectTag)
        .option('--created-after <time>', 'ISO-8601 time, or an age such as 30m, 2h, 7d', (v) => parseTime(v))
        .option('--created-before <time>', 'ISO-8601 time, or an age such as 30m, 2h, 7d', (v) =>
          parseTime(v),
        )
        .option('--dry-run', 'count the matching tasks; change nothing'),
    )
      .option('--json', 'print the totals as JSON')
      .action((opts: BulkOptions, cmd: Command) =>
        withGateway(cmd, (client) => {
          const filter: BulkFilter = {
            ...(opts.status && { status: opts.status }),
            ...(opts.type && { type: opts.type }),
            ...(opts.tag && { tag: opts.tag.length === 1 ? opts.tag[0]! : opts.tag }),
            ...(opts.createdBefore && { createdBefore: opts.createdBefore }),
            ...(opts.createdAfter && { createdAfter: opts.createdAfter }),
          };
          if (Object.keys(filter).length === 0) {
            throw new UsageError(
              'give at least one of --status, --type, --tag, --created-before, --created-after',
            );
          }
          return bulkAction(
            client,
            { action, filter, dryRun: opts.dryRun === true, json: opts.json === true },
            out,
            progress,
          );
        }),
      );
  }
}
