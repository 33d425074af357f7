/**
 * Who may call what. Executors (EXECUTOR_TOKEN) may call every method; other clients (RPC_TOKEN:
 * the gateway, tasksctl, tools) every method but the ones that change what the store accepts.
 */
import type { MethodName } from '@tasks/contracts';

export type Caller = 'executor' | 'client';

/**
 * Registering a type decides which payloads the store accepts; a recount scans every task (an
 * operator's tool, not something a client holding RPC_TOKEN should be able to repeat); sending
 * webhooks is the executors' job (a client that could record attempts could mark one delivered
 * that never was): executors only.
 */
const EXECUTOR_ONLY: ReadonlySet<MethodName> = new Set<MethodName>([
  'taskTypes.register',
  'tasks.recount',
  'webhooks.claimDue',
  'webhooks.recordAttempt',
]);

export function mayCall(caller: Caller, method: MethodName): boolean {
  return caller === 'executor' || !EXECUTOR_ONLY.has(method);
}
