/**
 * Runs inside a Piscina worker thread: imports the task's module and calls its handler.
 * Outcomes are returned as data — errors lose their fields when cloned across threads.
 */
import type { MessagePort } from 'node:worker_threads';
import { definitionsOf } from './tasks/task-loader.js';
import type { TaskDefinition } from './tasks/task-definition.js';

export interface CpuJob {
  moduleUrl: string;
  type: string;
  payload: unknown;
  allowHosts: string[];
  port: MessagePort;
}

export interface ProgressMessage {
  percent: number;
  message?: string;
}

/** What the thread tells the main thread while a job runs: that it started, then progress. */
export type WorkerMessage = { started: true } | ({ started?: undefined } & ProgressMessage);

export type CpuOutcome =
  { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; retryable: boolean } };

const modules = new Map<string, TaskDefinition[]>();

export default async function runCpuTask(job: CpuJob): Promise<CpuOutcome> {
  // The job may have waited in Piscina's queue; its timeout counts from here.
  job.port.postMessage({ started: true } satisfies WorkerMessage);
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
    const result = await def.handler(job.payload, {
      signal,
      progress: (percent, message) => job.port.postMessage({ percent, message } satisfies WorkerMessage),
      allowHosts: job.allowHosts,
    });
    return { ok: true, result };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown; retryable?: unknown };
    return {
      ok: false,
      error: {
        code: typeof e.code === 'string' ? e.code : 'TASK_ERROR',
        message: typeof e.message === 'string' ? e.message : String(err),
        retryable: e.retryable !== false,
      },
    };
  } finally {
    job.port.close();
  }
}
