/** tasksctl as a library: run it in-process (tests, other tools) or reuse its commands. */
export { runCli } from './cli.js';
export { buildProgram, DEFAULT_GATEWAY_URL, DEFAULT_STORE_URL } from './program.js';
export type { CliIo, StoreCaller, Writer } from './command.js';
export { EXIT, EXIT_CODES_HELP, exitCodeFor, errorLine, UsageError, type ExitCode } from './exit-codes.js';
export { getTask, renderTask, type GetArgs } from './commands/get.js';
export {
  getFlow,
  listFlows,
  cancelFlow,
  renderFlow,
  renderFlowTable,
  type FlowGetArgs,
  type FlowListArgs,
  type FlowCancelArgs,
} from './commands/flow.js';
export { listTasks, type ListArgs } from './commands/list.js';
export { showStats, renderStats, type StatsArgs } from './commands/stats.js';
export { listTypes, renderTypes, type TypesArgs } from './commands/types.js';
export {
  cancelTask,
  retryTask,
  requeueExpired,
  ACTOR,
  type CancelArgs,
  type RetryArgs,
  type RequeueExpiredArgs,
} from './commands/lifecycle.js';
export { submitTask, type SubmitArgs } from './commands/submit.js';
export {
  setTypePaused,
  typeLimits,
  typeRetention,
  renderSettings,
  type PauseArgs,
  type LimitsArgs,
} from './commands/type.js';
export {
  GatewayClient,
  type GatewayOptions,
  type SubmitBody,
  type PublicTask,
  type TypeSettingsView,
} from './gateway-client.js';
export { renderTable, formatAge, formatDuration, formatTime, clean, type Column } from './format.js';
