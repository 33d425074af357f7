/** The `tasksctl type` group: pause, resume, limits and retention of one task type, through the gateway. */
import type { Command } from 'commander';
import type { ExitCode, Writer } from './command.js';
import { setTypePaused, typeLimits, typeRetention } from './commands/type.js';
import type { GatewayClient } from './gateway-client.js';
import { withGatewayOptions } from './gateway-options.js';
import { parseConcurrencyLimit, parseRateLimit, parseRetention, type LimitArg } from './options.js';

type WithGateway = (cmd: Command, body: (gateway: GatewayClient) => Promise<ExitCode>) => Promise<void>;

interface LimitsOptions {
  concurrency?: LimitArg;
  rate?: LimitArg;
  json?: true;
}

/** The REST body's spelling: null lifts a limit. */
const limit = (arg: LimitArg): number | null => (arg === 'none' ? null : arg);

export function addTypeCommands(program: Command, withGateway: WithGateway, out: Writer): void {
  const type = program
    .command('type')
    .description(
      "one task type's run-time settings: pause, resume, limits, retention (through the REST gateway)",
    )
    .addHelpText(
      'after',
      `
Settings hold across every executor (docs/flow-control.md). While a type is paused, or at its
concurrency limit, its due tasks wait in the store; tasksctl get <id> shows why ("held").

Examples:
  tasksctl type pause primes.count
  tasksctl type limits primes.count --concurrency 4 --rate 20
  tasksctl type limits primes.count --rate none     # lift the rate limit, keep the rest
  tasksctl type resume primes.count
  tasksctl type retention primes.count 86400       # keep its finished tasks a day (docs/retention.md)
  tasksctl type retention primes.count default     # back to the store's default`,
    );

  for (const [name, paused, description] of [
    ['pause', true, 'stop starting tasks of this type (running ones finish, queued ones wait)'],
    ['resume', false, 'start the waiting tasks of this type again, within its limits'],
  ] as const) {
    withGatewayOptions(type.command(name))
      .description(description)
      .argument('<type>', 'task type (see tasksctl types)')
      .option('--json', 'print the settings as JSON')
      .action((typeName: string, opts: { json?: true }, cmd: Command) =>
        withGateway(cmd, (gateway) =>
          setTypePaused(gateway, { type: typeName, paused, json: opts.json === true }, out),
        ),
      );
  }

  withGatewayOptions(type.command('limits'))
    .description('show the type’s limits, or set (a number) or lift (none) the ones given')
    .argument('<type>', 'task type (see tasksctl types)')
    .option('--concurrency <n>', 'at most this many running at once, or none', parseConcurrencyLimit)
    .option('--rate <r>', 'at most this many starts per second (0.5, 20), or none', parseRateLimit)
    .option('--json', 'print the settings as JSON')
    .action((typeName: string, opts: LimitsOptions, cmd: Command) =>
      withGateway(cmd, (gateway) =>
        typeLimits(
          gateway,
          {
            type: typeName,
            ...(opts.concurrency !== undefined && { concurrency: limit(opts.concurrency) }),
            ...(opts.rate !== undefined && { ratePerSecond: limit(opts.rate) }),
            json: opts.json === true,
          },
          out,
        ),
      ),
    );

  withGatewayOptions(type.command('retention'))
    .description('show the type’s retention, or set how long its finished tasks are kept (or default)')
    .argument('<type>', 'task type (see tasksctl types)')
    .argument('[seconds]', 'whole seconds (1 to 315360000), or default', parseRetention)
    .option('--json', 'print the settings as JSON')
    .action(
      (typeName: string, seconds: number | 'default' | undefined, opts: { json?: true }, cmd: Command) =>
        withGateway(cmd, (gateway) =>
          typeRetention(
            gateway,
            {
              type: typeName,
              ...(seconds !== undefined && { seconds: seconds === 'default' ? null : seconds }),
              json: opts.json === true,
            },
            out,
          ),
        ),
    );
}
