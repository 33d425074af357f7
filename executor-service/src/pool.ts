/**
 * The Piscina pool for `cpu` tasks. Aborting a run terminates the thread that runs it, so a
 * timed-out or cancelled CPU task really stops burning CPU; Piscina starts a fresh thread.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { CpuJob, CpuOutcome, ProgressReport, WorkerMessage } from './cpu-worker.js';

// Built, the worker is cpu-worker.js. Under tsx (dev, tests) loader hooks do not reach worker
// threads, so a small .mjs entry registers tsx in the thread before loading cpu-worker.ts.
const workerFile = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-worker-tsx.mjs' : './cpu-worker.js',
  import.meta.url,
);

export class CpuPool {
  private readonly piscina: Piscina;

  /**
   * `onThreadError`: a thread failed while running no job (Piscina's 'error' event, which would
   * otherwise be thrown on the main thread and end the executor).
   */
  constructor(threads: number, maxHeapMb?: number, onThreadError?: (err: unknown) => void) {
    this.piscina = new Piscina({
      filename: workerFile.href,
      minThreads: threads,
      maxThreads: threads,
      // A task that allocates past this ends its own thread (the run fails; Piscina starts a new one).
      ...(maxHeapMb !== undefined && { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } }),
    });
    this.piscina.on('error', (err: unknown) => onThreadError?.(err));
  }

  /** Runs a job; `onStart` fires when a thread takes it up (it may wait for one first). */
  async run(
    job: Omit<CpuJob, 'port'>,
    signal: AbortSignal,
    on: { start: () => void; progress: (p: ProgressReport) => void },
  ): Promise<CpuOutcome> {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: WorkerMessage) => (m.started ? on.start() : on.progress(m)));
    try {
      return (await this.piscina.run(
        { ...job, port: port2 },
        { signal, transferList: [port2] },
      )) as CpuOutcome;
    } finally {
      port1.close();
    }
  }

  get utilization(): number {
    return this.piscina.utilization;
  }

  get threadCount(): number {
    return this.piscina.threads.length;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
