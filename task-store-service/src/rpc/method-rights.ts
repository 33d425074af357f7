/**
 * Who may call what. Executors (EXECUTOR_TOKEN) may call every method; other clients (RPC_TOKEN:
 * the gateway, tasksctl, tools) every method but the ones that change what the store accepts.
 */
import type { MethodName } from '@tasks/contracts';

export type Caller = 'executor' | 'client';

/** Registering a type decides which payloads the store accepts: executors only. */
const EXECUTOR_ONLY: ReadonlySet<MethodName> = new Set<MethodName>(['taskTypes.register']);

export function mayCall(caller: Caller, method: MethodName): boolean {
  return caller === 'executor' || !EXECUTOR_ONLY.has(method);
}
