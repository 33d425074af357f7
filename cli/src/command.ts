/** What every command is given (a store client, its parsed arguments, where to write) and the CLI's I/O. */
import type { TaskStoreClient } from '@tasks/contracts';

export type { ExitCode } from './exit-codes.js';

/** The part of the store client commands use. */
export type StoreCaller = Pick<TaskStoreClient, 'call'>;

/** process.stdout, or a buffer in tests. */
export interface Writer {
  write(chunk: string): unknown;
}

/** Everything tasksctl takes from the process, passed in by main.ts (or a test). */
export interface CliIo {
  /** STORE_URL (or TASKS_STORE_URL), RPC_TOKEN, TASKS_GATEWAY_URL, TASKS_API_KEY are read from here. */
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writer;
  stderr: Writer;
  version: string;
}
