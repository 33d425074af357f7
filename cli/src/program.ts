/**
 * The commander program: options, help texts, and one action per command that calls the
 * command's function with a client, its arguments and stdout. Settles the exit code; prints
 * an error as its one stderr line.
 */
import { Command, Option } from 'commander';
import { TASK_STATUSES, TaskStoreClient, type TaskDetailField, type TaskStatus } from '@tasks/contracts';
import type { CliIo, ExitCode, StoreCaller } from './command.js';
import { cancelFlow, getFlow, listFlows } from './commands/flow.js';
import { getTask } from './commands/get.js';
import { cancelTask, requeueExpired, retryTask } from './commands/lifecycle.js';
import { listTasks } from './commands/list.js';
import { showStats } from './commands/stats.js';
import { submitTask } from './commands/submit.js';
import { listTypes } from './commands/types.js';
import { EXIT_CODES_HELP, errorLine, exitCodeFor, usageLine } from './exit-codes.js';
import { GatewayClient } from './gateway-client.js';
import {
  checkUrl,
  parseDuration,
  parseFields,
  parsePriority,
  parseJsonValue,
  parsePositiveDuration,
  parsePositiveInt,
  parseTime,
} from './options.js';

export const DEFAULT_STORE_URL = 'http://127.0.0.1:4001/rpc';
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';
const DEFAULT_TIMEOUT_MS = 10_000;

interface GlobalOptions {
  url?: string;
  token?: string;
  timeout: number;
}

const ENV_HELP = `Environment:
  TASKS_STORE_URL    the task store's JSON-RPC endpoint (default ${DEFAULT_STORE_URL})
  RPC_TOKEN          bearer token for the store, when it requires one
  TASKS_GATEWAY_URL  the REST gateway, for submit (default ${DEFAULT_GATEWAY_URL})
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
    .option('--url <url>', `task store JSON-RPC endpoint (default: $TASKS_STORE_URL or ${DEFAULT_STORE_URL})`)
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
    .option(json, 'print the raw page: {"items": [...], "nextCursor": ...}')
    .addHelpText(
      'after',
      `
Items are summaries (no payload, result or history) unless --fields names them.

Examples:
  tasksctl list --status failed --created-after 1h
  tasksctl list --status failed --fields result,history --json
  tasksctl list --type primes.count --limit 100 --json | jq -r '.items[].id'`,
    )
    .action((opts: ListOptions, cmd: Command) =>
      withStore(cmd, (client) => listTasks(client, { ...opts, json: opts.json === true }, io.stdout)),
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
    .option('--idempotency-key <key>', 'the same key and body again returns the first task')
    .option('--gateway <url>', `REST gateway (default: $TASKS_GATEWAY_URL or ${DEFAULT_GATEWAY_URL})`)
    .option('--api-key <key>', 'API key for the gateway (default: $TASKS_API_KEY)')
    .option(json, 'print the created task as JSON')
    .addHelpText(
      'after',
      `\nExample:\n  tasksctl submit primes.count --payload '{"upTo": 100000}' --idempotency-key order-42`,
    )
    .action((type: string, opts: SubmitOptions, cmd: Command) =>
      guarded(() => {
        const { timeout } = cmd.optsWithGlobals<GlobalOptions>();
        const { gateway, apiKey, delay, ...rest } = opts;
        const key = resolveSecret(apiKey, io.env.TASKS_API_KEY);
        const client = new GatewayClient({
          url: checkUrl(gateway ?? (io.env.TASKS_GATEWAY_URL || DEFAULT_GATEWAY_URL), 'gateway URL'),
          timeoutMs: timeout,
          ...(key !== undefined && { apiKey: key }),
        });
        return submitTask(client, { ...rest, type, delayMs: delay, json: opts.json === true }, io.stdout);
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
  json?: true;
}

interface SubmitOptions {
  payload?: unknown;
  priority?: number;
  maxAttempts?: number;
  delay?: number;
  idempotencyKey?: string;
  gateway?: string;
  apiKey?: string;
  json?: true;
}

/** An option wins over the environment; an empty value counts as unset. */
function resolveSecret(option: string | undefined, env: string | undefined): string | undefined {
  return option || env || undefined;
}

function storeClient(opts: GlobalOptions, env: CliIo['env']): TaskStoreClient {
  const url = checkUrl(opts.url ?? (env.TASKS_STORE_URL || DEFAULT_STORE_URL), 'store URL');
  const token = resolveSecret(opts.token, env.RPC_TOKEN);
  return new TaskStoreClient({ url, timeoutMs: opts.timeout, ...(token !== undefined && { token }) });
}
