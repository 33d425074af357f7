/**
 * Runs inside a Piscina worker thread: imports the task's module and calls its handler.
 * Outcomes are returned as data — errors lose their fields when cloned across threads — and only
 * JSON-safe data: whatever the handler returns or throws, or a crash of its timers and promises
 * (task-code/thread-guard.ts), becomes an outcome, never a thread-level error.
 */
import type { MessagePort } from 'node:worker_threads';
import type { DependencyResults, TaskError } from '@tasks/contracts';
import { definitionsOf } from './tasks/task-loader.js';
import type { TaskDefinition } from './tasks/task-definition.js';
import { newCrashScope, crashScope } from './task-code/crash-scope.js';
import { toJsonResult } from './task-code/json-result.js';
import { checkProgress, type ProgressReport } from './task-code/progress-input.js';
import { installThreadGuard, takeLateCrashes } from './task-code/thread-guard.js';
import { toTaskError } from './task-code/thrown-value.js';

export interface CpuJob {
  moduleUrl: string;
  type: string;
  payload: unknown;
  allowHosts: string[];
  dependencies: DependencyResults;
  port: MessagePort;
}

export type { ProgressReport };

/** What the thread tells the main thread while a job runs: that it started, then progress. */
export type WorkerMessage = { started: true } | ({ started?: undefined } & ProgressReport);

export type CpuOutcome = ({ ok: true; result: unknown } | { ok: false; error: TaskError }) & {
  /** Crashes (TASK_CRASHED) from timers or promises of jobs that had already ended in this thread. */
  lateCrashes?: TaskError[];
};

const modules = new Map<string, TaskDefinition[]>();
installThreadGuard();

export default async function runCpuTask(job: CpuJob): Promise<CpuOutcome> {
  // The job may have waited in Piscina's queue; its timeout counts from here.
  job.port.postMessage({ started: true } satisfies WorkerMessage);
  const lateCrashes = takeLateCrashes();
  const late = lateCrashes.length > 0 ? { lateCrashes } : {};
  const { scope, crashed, end } = newCrashScope();
  try {
    let defs = modules.get(job.moduleUrl);
    if (!defs) {
      defs = definitionsOf(await import(job.moduleUrl));
      modules.set(job.moduleUrl, defs);
    }
    const def = defs.find((d) => d.type === job.type);
    if (!def) throw Object.assign(new Error(`module does not define ${job.type}`), { retryable: false });
    // Never aborted from inside: an abort terminates this whole thread.
    const signal = new AbortController().signal;
    const progress = (percent: unknown, message?: unknown) => {
      try {
        job.port.postMessage(checkProgress(percent, message) satisfies WorkerMessage);
      } catch {
        // The port is closed: the job has ended; late progress is dropped.
      }
    };
    const run = crashScope.run(scope, async (): Promise<CpuOutcome> => {
      const result = toJsonResult(
        await def.handler(job.payload, {
          signal,
          progress,
          allowHosts: job.allowHosts,
          dependencies: job.dependencies,
        }),
      );
      return result.ok ? { ok: true, result: result.value } : { ok: false, error: result.error };
    });
    const outcome = await Promise.race([run, crashed.then((error): CpuOutcome => ({ ok: false, error }))]);
    return { ...outcome, ...late };
  } catch (err) {
    return { ok: false, error: toTaskError(err), ...late };
  } finally {
    end();
    job.port.close();
  }
}
