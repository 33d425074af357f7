/**
 * Everything `npm start` takes from its arguments and the environment, checked before anything
 * starts: a bad value is one line and exit 2, with no process left behind.
 */
import { parseArgs } from 'node:util';

export interface StartOptions {
  executors: number;
  storePort: number;
  gatewayPort: number;
  /** The first executor's ops port; the next ones count up. */
  firstMetricsPort: number;
  amqpUrl: string;
  /** How the services' log lines are shown (log-format.ts). */
  logFormat: 'json' | 'pretty';
}

export const MAX_EXECUTORS = 16;

export const USAGE = `usage: npm start -- [--executors N]   (make start [EXECUTORS=N])

Runs a MongoDB-wire server, the task store, the gateway and N executors (default 1) on this
machine, on 127.0.0.1 only. RabbitMQ must be running at AMQP_URL.

  --executors N   0 to ${MAX_EXECUTORS}; 0 starts the store and the gateway only (add executors with
                  \`npm run dev -w executor-service\`, see the README)
  -h, --help      this text

Environment: AMQP_URL, MONGO_URL, STORE_PORT (4001), GATEWAY_PORT (8080),
EXECUTOR_METRICS_PORT (9464), LOG_FORMAT (json|pretty; pretty when the output is a
terminal); see the README's Provisioning table.`;

/** A reason to refuse the command line, said in one line. */
export class UsageError extends Error {
  readonly type = 'USAGE';
}

export type ParsedStart = { help: true } | { help: false; options: StartOptions };

export function parseStartOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  outputIsTerminal = false,
): ParsedStart {
  let values: { executors?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { executors: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0] : String(err));
  }
  if (values.help) return { help: true };
  const executors = wholeNumber('--executors', values.executors ?? '1', 0, MAX_EXECUTORS);
  const firstMetricsPort = port('EXECUTOR_METRICS_PORT', env.EXECUTOR_METRICS_PORT ?? '9464');
  if (firstMetricsPort + Math.max(executors, 1) - 1 > 65_535)
    throw new UsageError(
      `EXECUTOR_METRICS_PORT ${firstMetricsPort} leaves no port for executor ${executors}`,
    );
  return {
    help: false,
    options: {
      executors,
      storePort: port('STORE_PORT', env.STORE_PORT ?? '4001'),
      gatewayPort: port('GATEWAY_PORT', env.GATEWAY_PORT ?? '8080'),
      firstMetricsPort,
      amqpUrl: amqpUrl(env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'),
      logFormat: logFormat(env.LOG_FORMAT, outputIsTerminal),
    },
  };
}

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`${name} takes a whole number from ${min} to ${max}, not '${text}'`);
  return n;
}

function port(name: string, text: string): number {
  return wholeNumber(name, text, 1, 65_535);
}

function logFormat(text: string | undefined, outputIsTerminal: boolean): 'json' | 'pretty' {
  if (text === undefined || text === '') return outputIsTerminal ? 'pretty' : 'json';
  if (text === 'json' || text === 'pretty') return text;
  throw new UsageError(`LOG_FORMAT takes json or pretty, not '${text}'`);
}

function amqpUrl(text: string): string {
  try {
    if (/^amqps?:$/.test(new URL(text).protocol)) return text;
  } catch {
    // said below
  }
  throw new UsageError('AMQP_URL must be an amqp:// or amqps:// URL');
}
