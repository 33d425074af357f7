/**
 * Starts the whole system (testkit's startSystem: store, gateway, executors as child processes of this
 * one) for a scenario, registered for cleanup, stopped within a bound, its database tuned as
 * `make start` tunes its own. Only startSystem's executors/executorEnv options are used; what
 * else a scenario needs to know about the services (pids, the store's database, the executor's
 * metrics port) it reads from /proc.
 */
import { prepareDatabase } from '@tasks/dev-mongo';
import { EQUALITY_FILTERED_FIELDS } from '@tasks/task-store-service';
import { startSystem, type RunningSystem } from '@tasks/testkit';
import { withTimeout } from './cleanup.js';
import { childPids, environmentOf } from './processes.js';
import { round } from './measure.js';
import type { RunContext } from './scenario.js';

export interface ScenarioSystem {
  system: RunningSystem;
  startSeconds: number;
  stop: () => Promise<void>;
}

export async function systemFor(
  ctx: RunContext,
  options: { executors: number; executorEnv?: Record<string, string> },
): Promise<ScenarioSystem> {
  const t0 = performance.now();
  const system = await startSystem(options);
  const startSeconds = round((performance.now() - t0) / 1000);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= withTimeout(system.stop(), 30_000, 'stopping the system').then(
      (codes) =>
        ctx.log(`system stopped (exit codes ${JSON.stringify(codes)}); its queues and database deleted`),
      (err: unknown) =>
        ctx.log(`system stop incomplete: ${err instanceof Error ? err.message : String(err)}`),
    ));
  const unregister = ctx.cleanup.add(stop);
  ctx.log(`system up in ${startSeconds} s (prefix ${system.prefix})`);
  await tuneStoreDatabase(ctx);
  return {
    system,
    startSeconds,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

/** The one running service started from `entry` (e.g. 'executor-service/src/main.ts'), and its environment. */
export function service(entry: string): { pid: number; env: Record<string, string> } {
  const pids = childPids(entry);
  if (pids.length !== 1) throw new Error(`expected one process of ${entry}, found ${pids.length}`);
  const pid = pids[0]!;
  return { pid, env: environmentOf(pid) };
}

/**
 * The running store's database made ready as scripts/start.ts makes its own (dev-mongo's
 * prepareDatabase: on FerretDB on PostgreSQL, the indexes its pushed-down filters use; nothing on
 * MongoDB), so that the benchmarks measure the system as `make start` runs it.
 */
export async function tuneStoreDatabase(ctx: RunContext): Promise<void> {
  const database = service('task-store-service/src/main.ts').env.MONGO_DB!;
  const t0 = performance.now();
  await prepareDatabase(
    { url: ctx.mongo.url, postgresqlUrl: ctx.mongo.postgresqlUrl },
    database,
    EQUALITY_FILTERED_FIELDS,
  );
  if (ctx.mongo.postgresqlUrl !== undefined)
    ctx.log(`store database ${database} tuned for FerretDB in ${round((performance.now() - t0) / 1000)} s`);
}
