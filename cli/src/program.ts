/**
 * The commander program: options, help texts, and one action per command that calls the
 * command's function with a client, its arguments and stdout. Settles the exit code; prints
 * an error as its one stderr line.
 */
import { Command, Option } from 'commander';
import {
  OVERLAP_POLICIES,
  TASK_STATUSES,
  TaskStoreClient,
  type OverlapPolicy,
  type TaskDetailField,
  type TaskStatus,
} from '@tasks/contracts';
import type { CliIo, ExitCode, StoreCaller } from './command.js';
import { cancelFlow, getFlow, listFlows } from './commands/flow.js';
import { getTask } from './commands/get.js';
import { showHistory } from './commands/history.js';
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  setPaused,
} from './commands/schedule.js';
import { cancelTask, requeueExpired, retryTask } from './commands/lifecycle.js';
import { listTasks } from './commands/list.js';
import { showStats } from './commands/stats.js';
import { submitTask } from './commands/submit.js';
import { listTypes } from './commands/types.js';
import { listWebhooks, redeliverWebhook } from './commands/webhooks.js';
import { EXIT_CODES_HELP, errorLine, exitCodeFor, usageLine } from './exit-codes.js';
import type { GatewayClient } from './gateway-client.js';
import {
  DEFAULT_GATEWAY_URL,
  gatewayClient,
  withGatewayOptions,
  type GatewayFlags,
} from './gateway-options.js';
import {
  checkUrl,
  collectMeta,
  collectTag,
  parseDuration,
  parseFields,
  parseInstant,
  parsePriority,
  parseJsonValue,
  parsePositiveDuration,
  parsePositiveInt,
  parseTime,
  resolveSecret,
} from './options.js';
import { addTypeCommands } from './type-commands.js';
import { addBulkCommands } from './bulk-commands.js';
import { UsageError } from './exit-codes.js';

export const DEFAULT_STORE_URL = 'http://127.0.0.1:4001/rpc';
export { DEFAULT_GATEWAY_URL };
const DEFAULT_TIMEOUT_MS = 10_000;

interface GlobalOptions {
  url?: string;
  token?: string;
  timeout: number;
}

const ENV_HELP = `Environment:
  STORE_URL          the task store's JSON-RPC endpoint, as the services name it (default
                     ${DEFAULT_STORE_URL}); TASKS_STORE_URL, its earlier name, still works
  RPC_TOKEN          bearer token for the store, when it requires one
  TASKS_GATEWAY_URL  the REST gateway, for submit, type and bulk (default ${DEFAULT_GATEWAY_URL})
  TASKS_API_KEY      API key for the gateway, when it requires one`;

export function buildProgram(io: CliIo, settle: (code: ExitCode) => void): Command {
  const program = new Command('tasksctl')
    .description('Inspect and operate the task store.')
    .version(io.version, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(usageLine(s)),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .option('--url <url>', `task store JSON-RPC endpoint (default: $STORE_URL or ${DEFAULT_STORE_URL})`)
    .option('--token <token>', 'bearer token for the store (default: $RPC_TOKEN, which keeps it out of ps)')
    .addOption(
      new Option('--timeout <duration>', 'per-request timeout: 1500, 500ms, 30s')
        .argParser(parsePositiveDuration)
        .default(DEFAULT_TIMEOUT_MS, '10s'),
    )
    .addHelpText('after', `\n${ENV_HELP}\n\n${EXIT_CODES_HELP}\n`);

  /** Runs a command's body; an error becomes its one stderr line and exit code. */
  const guarded = async (body: () => Promise<ExitCode>): Promise<void> => {
    try {
      settle(await body());
    } catch (err) {
      io.stderr.write(errorLine(err));
      settle(exitCodeFor(err));
    }
  };
  const withStore = (cmd: Command, run: (client: StoreCaller) => Promise<ExitCode>) =>
    guarded(() => run(storeClient(cmd.optsWithGlobals<GlobalOptions>(), io.env)));
  const withGateway = (cmd: Command, run: (client: GatewayClient) => Promise<ExitCode>) =>
    guarded(() => {
      const { timeout, ...flags } = cmd.optsWithGlobals<GlobalOptions & GatewayFlags>();
      return run(gatewayClient(flags, timeout, io.env));
    });
  const json = '--json';
  const jsonHelp = 'print the raw JSON answer';

  program
    .command('get')
    .description('show one task')
    .argument('<id>', 'task id')
    .option(json, jsonHelp)
    .action((id: string, opts: { json?: true }, cmd: Command) =>
      withStore(cmd, (client) => getTask(client, { id, json: opts.json === true }, io.stdout)),
    );

  program
    .command('history')
    .description('every change of a task, oldest first (all pages, or one with --limit)')
    .argument('<id>', 'task id')
    .option('--limit <n>', 'one page of this many entries, 1..500, and its next cursor', parsePositiveInt)
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option(json, 'print {"items": [...], "nextCursor": ...}')
    .action((id: string, opts: { limit?: number; cursor?: string; json?: true }, cmd: Command) =>
      withStore(cmd, (client) => showHistory(client, { id, ...opts, json: opts.json === true }, io.stdout)),
    );

  program
    .command('list')
    .description('list tasks, newest first, one page at a time')
    .addOption(new Option('--status <status>', 'only tasks in this status').choices(TASK_STATUSES))
    .option('--type <type>', 'only tasks of this type')
    .option('--limit <n>', 'tasks per page, 1..500 (default: 50)', parsePositiveInt)
    .option('--cursor <cursor>', 'continue after the page that printed this cursor (repeat the filters)')
    .option('--created-after <time>', 'ISO-8601 time, or an age such as 30m, 2h, 7d', (v) => parseTime(v))
    .option('--created-before <time>', 'ISO-8601 time, or an age such as 30m, 2h, 7d', (v) => parseTime(v))
    .option(
      '--fields <names>',
      'also read these parts of each task: payload, result, history (comma-separated; they show with --json)',
      parseFields,
    )
    .option('--tag <tag>', 'only tasks with this tag (repeat: with every one)', collectTag)
    .option('--meta <key=value>', 'only tasks with this metadata entry (repeat for more keys)', collectMeta)
    .option(json, 'print the raw page: {"items": [...], "nextCursor": ...}')
    .addHelpText(
      'after',
      `
Items are summaries (no payload, result or history) unless --fields names them.

Examples:
  tasksctl list --status failed --created-after 1h
  tasksctl list --status failed --fields result,history --json
  tasksctl list --type primes.count --limit 100 --json | jq -r '.items[].id'
  tasksctl list --tag nightly-import --meta customer=c-42 --status failed`,
    )
    .action(({ tag, meta, ...opts }: ListOptions, cmd: Command) =>
      withStore(cmd, (client) =>
        listTasks(
          client,
          { ...opts, ...(tag && { tags: tag }), ...(meta && { metadata: meta }), json: opts.json === true },
          io.stdout,
        ),
      ),
    );

  program
    .command('stats')
    .description('task counts by status and by type, outcomes in the last minute')
    .option(json, jsonHelp)
    .action((opts: { json?: true }, cmd: Command) =>
      withStore(cmd, (client) => showStats(client, { json: opts.json === true }, io.stdout)),
    );

  program
    .command('types')
    .description('list the registered task types')
    .option(json, jsonHelp)
    .action((opts: { json?: true }, cmd: Command) =>
      withStore(cmd, (client) => listTypes(client, { json: opts.json === true }, io.stdout)),
    );

  addTypeCommands(program, withGateway, io.stdout);
  addBulkCommands(program, withGateway, io.stdout, io.stderr);

  program
    .command('cancel')
    .description('cancel a queued or running task (a running one is stopped)')
    .argument('<id>', 'task id')
    .option('--reason <text>', 'why, kept with the task (up to 500 characters)')
    .option(json, 'print the task as it is now')
    .action((id: string, opts: { reason?: string; json?: true }, cmd: Command) =>
      withStore(cmd, (client) =>
        cancelTask(client, { id, reason: opts.reason, json: opts.json === true }, io.stdout),
      ),
    );

  program
    .command('retry')
    .description('queue a failed or cancelled task again, with a full budget of attempts')
    .argument('<id>', 'task id')
    .option(json, 'print the task as it is now')
    .action((id: string, opts: { json?: true }, cmd: Command) =>
      withStore(cmd, (client) => retryTask(client, { id, json: opts.json === true }, io.stdout)),
    );

  program
    .command('requeue-expired')
    .description(
      'hand running tasks whose lease expired back to the queue (or fail them when no attempt is left)',
    )
    .option('--limit <n>', 'at most this many, 1..1000', parsePositiveInt)
    .option(json, 'print the changed tasks as JSON')
    .action((opts: { limit?: number; json?: true }, cmd: Command) =>
      withStore(cmd, (client) =>
        requeueExpired(client, { limit: opts.limit, json: opts.json === true }, io.stdout),
      ),
    );

  const flow = program
    .command('flow')
    .description('flows: tasks that wait for other tasks, as a graph of nodes (get, list, cancel)')
    .addHelpText(
      'after',
      `
Each node of a flow is an ordinary task: tasksctl get <task id> shows one in full.

Examples:
  tasksctl flow list --limit 10
  tasksctl flow get <id>
  tasksctl flow get <id> --json | jq '.nodes[] | select(.status == "failed")'
  tasksctl flow cancel <id>`,
    );

  flow
    .command('get')
    .description('show one flow: its status and each node with its status, dependencies and task id')
    .argument('<id>', 'flow id')
    .option(json, 'print the flow as JSON, node results included')
    .action((id: string, opts: { json?: true }, cmd: Command) =>
      withStore(cmd, (client) => getFlow(client, { id, json: opts.json === true }, io.stdout)),
    );

  flow
    .command('list')
    .description('list flows, newest first, with node counts by status, one page at a time')
    .option('--limit <n>', 'flows per page, 1..200 (default: 20)', parsePositiveInt)
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option(json, 'print the raw page: {"items": [...], "nextCursor": ...}')
    .action((opts: { limit?: number; cursor?: string; json?: true }, cmd: Command) =>
      withStore(cmd, (client) =>
        listFlows(client, { limit: opts.limit, cursor: opts.cursor, json: opts.json === true }, io.stdout),
      ),
    );

  flow
    .command('cancel')
    .description('cancel every node of a flow that has not ended yet (running ones are stopped)')
    .argument('<id>', 'flow id')
    .option(json, 'print the answer: {"flow": ..., "cancelled": [the nodes this call cancelled]}')
    .action((id: string, opts: { json?: true }, cmd: Command) =>
      withStore(cmd, (client) => cancelFlow(client, { id, json: opts.json === true }, io.stdout)),
    );

  program
    .command('webhooks')
    .description(
      "a task's webhook deliveries (state, attempts, last status code, next attempt), or send one again",
    )
    .argument('<task-id|redeliver>', 'the task whose deliveries to list, or `redeliver`')
    .argument('[delivery-id]', 'with redeliver: the delivery, <task id>:<version> as listed')
    .option(json, jsonHelp)
    .addHelpText(
      'after',
      `
Examples:
  tasksctl webhooks <task id>
  tasksctl webhooks redeliver <task id>:<version>`,
    )
    .action((first: string, deliveryId: string | undefined, opts: { json?: true }, cmd: Command) =>
      withStore(cmd, (client) => {
        const asJson = opts.json === true;
        if (first !== 'redeliver') {
          if (deliveryId !== undefined) throw new UsageError('a delivery id goes with `webhooks redeliver`');
          return listWebhooks(client, { taskId: first, json: asJson }, io.stdout);
        }
        if (deliveryId === undefined) throw new UsageError('webhooks redeliver needs a delivery id');
        return redeliverWebhook(client, { id: deliveryId, json: asJson }, io.stdout);
      }),
    );

  const schedule = program
    .command('schedule')
    .description('cron schedules that create a task at each tick (list, get, create, pause, resume, delete)')
    .addHelpText(
      'after',
      `
The cron has five fields, or six with seconds first; it is read in --timezone (default UTC).
Each tick creates an ordinary task naming its schedule (scheduleId): tasksctl get <task id>.

Examples:
  tasksctl schedule create nightly-primes '0 3 * * *' primes.count --payload '{"upTo": 100000}' --timezone Europe/Berlin
  tasksctl schedule create heartbeat '*/10 * * * * *' noop --overlap allow
  tasksctl schedule list
  tasksctl schedule pause <id>`,
    );

  schedule
    .command('list')
    .description('list every schedule: cron, state, next and last run')
    .option(json, 'print {"items": [...]}')
    .action((opts: { json?: true }, cmd: Command) =>
      withStore(cmd, (client) => listSchedules(client, { json: opts.json === true }, io.stdout)),
    );

  schedule
    .command('get')
    .description('show one schedule')
    .argument('<id>', 'schedule id')
    .option(json, jsonHelp)
    .action((id: string, opts: { json?: true }, cmd: Command) =>
      withStore(cmd, (client) => getSchedule(client, { id, json: opts.json === true }, io.stdout)),
    );

  schedule
    .command('create')
    .description('create a schedule; the cron, timezone, type and payload are checked first')
    .argument('<name>', 'a name for people')
    .argument('<cron>', "cron expression, quoted: '0 3 * * *', '*/10 * * * * *'")
    .argument('<type>', 'task type (see tasksctl types)')
    .option('--payload <json>', 'the payload of each task as JSON', parseJsonValue)
    .option('--timezone <zone>', 'IANA time zone the cron is read in (default: UTC)')
    .addOption(
      new Option(
        '--overlap <policy>',
        'skip a tick while the last task runs, or allow it (default: skip)',
      ).choices(OVERLAP_POLICIES),
    )
    .option(
      '--priority <n>',
      'among waiting tasks of the type, higher starts first: 0..9, 9 most urgent (default 0)',
      parsePriority,
    )
    .option('--max-attempts <n>', 'attempts before a task fails for good', parsePositiveInt)
    .option('--paused', 'create it paused')
    .option(json, 'print the created schedule as JSON')
    .action((name: string, cron: string, type: string, opts: ScheduleCreateOptions, cmd: Command) =>
      withStore(cmd, (client) =>
        createSchedule(
          client,
          { ...opts, name, cron, type, paused: opts.paused === true, json: opts.json === true },
          io.stdout,
        ),
      ),
    );

  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    schedule
      .command(verb)
      .description(
        paused
          ? 'pause a schedule: no tick fires until it is resumed'
          : 'resume a schedule: ticks from now on fire',
      )
      .argument('<id>', 'schedule id')
      .option(json, 'print the schedule as JSON')
      .action((id: string, opts: { json?: true }, cmd: Command) =>
        withStore(cmd, (client) => setPaused(client, { id, paused, json: opts.json === true }, io.stdout)),
      );
  }

  schedule
    .command('delete')
    .description('delete a schedule (the tasks it created stay)')
    .argument('<id>', 'schedule id')
    .action((id: string, _opts: unknown, cmd: Command) =>
      withStore(cmd, (client) => deleteSchedule(client, { id }, io.stdout)),
    );

  withGatewayOptions(
    program
      .command('submit')
      .description('submit a task through the REST gateway, which validates and publishes it')
      .argument('<type>', 'task type (see tasksctl types)')
      .option('--payload <json>', 'the task payload as JSON', parseJsonValue)
      .option(
        '--priority <n>',
        'among waiting tasks of the type, higher starts first: 0..9, 9 most urgent (default 0)',
        parsePriority,
      )
      .option('--max-attempts <n>', 'attempts before the task fails for good', parsePositiveInt)
      .option('--delay <duration>', 'run no sooner than this from now: 30s, 5m, 2h', parseDuration)
      .option('--expires-at <time>', 'not started by this ISO-8601 time, it fails (EXPIRED)', parseInstant)
      .option('--expires-in <duration>', 'the same, this long from now: 30s, 5m, 2h', parseDuration)
      .option('--idempotency-key <key>', 'the same key and body again returns the first task')
      .option('--tag <tag>', 'a tag to find the task by (repeat for more, at most 10)', collectTag)
      .option('--meta <key=value>', 'a metadata entry (repeat for more keys, at most 16)', collectMeta),
  )
    .option(json, 'print the created task as JSON')
    .addHelpText(
      'after',
      `\nExample:\n  tasksctl submit primes.count --payload '{"upTo": 100000}' --idempotency-key order-42`,
    )
    .action((type: string, opts: SubmitOptions, cmd: Command) =>
      withGateway(cmd, (client) => {
        const { payload, priority, maxAttempts, idempotencyKey, delay, expiresAt, expiresIn, tag, meta } =
          opts;
        if (expiresAt !== undefined && expiresIn !== undefined) {
          throw new UsageError('give --expires-at or --expires-in, not both');
        }
        const deadline = expiresIn !== undefined ? new Date(Date.now() + expiresIn).toISOString() : expiresAt;
        return submitTask(
          client,
          {
            type,
            payload,
            priority,
            maxAttempts,
            idempotencyKey,
            delayMs: delay,
            ...(deadline !== undefined && { expiresAt: deadline }),
            ...(tag && { tags: tag }),
            ...(meta && { metadata: meta }),
            json: opts.json === true,
          },
          io.stdout,
        );
      }),
    );

  return program;
}

interface ListOptions {
  status?: TaskStatus;
  type?: string;
  limit?: number;
  cursor?: string;
  createdAfter?: string;
  createdBefore?: string;
  fields?: TaskDetailField[];
  tag?: string[];
  meta?: Record<string, string>;
  json?: true;
}

interface ScheduleCreateOptions {
  payload?: unknown;
  timezone?: string;
  overlap?: OverlapPolicy;
  priority?: number;
  maxAttempts?: number;
  paused?: true;
  json?: true;
}

interface SubmitOptions {
  payload?: unknown;
  priority?: number;
  maxAttempts?: number;
  delay?: number;
  expiresAt?: string;
  expiresIn?: number;
  idempotencyKey?: string;
  tag?: string[];
  meta?: Record<string, string>;
  gateway?: string;
  apiKey?: string;
  json?: true;
}

function storeClient(opts: GlobalOptions, env: CliIo['env']): TaskStoreClient {
  const url = checkUrl(opts.url ?? (env.STORE_URL || env.TASKS_STORE_URL || DEFAULT_STORE_URL), 'store URL');
  const token = resolveSecret(opts.token, env.RPC_TOKEN);
  return new TaskStoreClient({ url, timeoutMs: opts.timeout, ...(token !== undefined && { token }) });
}
