/**
 * Store calls of messages that arrived together go out as one JSON-RPC 2.0 batch: a call waits
 * at most `windowMs` for others (or until `maxCalls` are waiting), then all of them are posted in
 * one HTTP request. Each call keeps its own answer: a store error reaches only its own caller, a
 * failed request (timeout, outage, a proxy's 5xx) reaches every caller in it, and whatever its
 * caller retries (untilRecorded) goes out again alone or with the next batch — never the others.
 * Nothing is retried here.
 */
import {
  isPassingStoreError,
  type BatchCall,
  type BatchResult,
  type CallOptions,
  type MethodName,
  type ParamsOf,
  type ResultOf,
  type TaskStoreClient,
} from '@tasks/contracts';
import { activeContext } from '@tasks/telemetry';

/** What untilRecorded needs of a store: one call at a time, answered or refused on its own. */
export interface StoreCaller {
  call<M extends MethodName>(method: M, params: ParamsOf<M>, options?: CallOptions): Promise<ResultOf<M>>;
}

export interface StoreBatcherOptions {
  /** How long the first call of a batch waits for company; 0 sends every call on its own. */
  windowMs: number;
  /** A batch is sent as soon as it holds this many calls. */
  maxCalls: number;
  /** Called with the size of every batch sent (metrics). */
  onBatch?: (size: number) => void;
}

interface Waiting {
  call: BatchCall;
  options: CallOptions;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

export class StoreBatcher implements StoreCaller {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<TaskStoreClient, 'call' | 'batch'>,
    private readonly options: StoreBatcherOptions,
  ) {}

  call<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    options: CallOptions = {},
  ): Promise<ResultOf<M>> {
    if (this.options.windowMs <= 0 || this.options.maxCalls <= 1) {
      this.options.onBatch?.(1);
      return this.store.call(method, params, options);
    }
    return new Promise<ResultOf<M>>((resolve, reject) => {
      // The call's trace context (docs/observability.md): the batch is sent from a timer, outside it.
      const trace = activeContext();
      const call = { method, params, trace } as BatchCall;
      this.waiting.push({
        call,
        options: { ...options, trace },
        resolve: resolve as (r: unknown) => void,
        reject,
      });
      if (this.waiting.length >= this.options.maxCalls) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  /** Sends whatever waits now (the window's end, a full batch). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting.splice(0, this.options.maxCalls);
    if (this.waiting.length > 0) this.timer = setTimeout(() => this.flush(), 0);
    if (batch.length === 0) return;
    this.options.onBatch?.(batch.length);
    void this.send(batch);
  }

  private async send(batch: Waiting[]): Promise<void> {
    let results: BatchResult[];
    try {
      results = await this.store.batch(
        batch.map((w) => w.call),
        batchOptions(batch),
      );
    } catch (err) {
      // Refused as a whole before any call ran (say, one large result made the body too large):
      // each call alone gets the answer that is its own. An outage reaches every caller instead.
      if (batch.length > 1 && !isPassingStoreError(err)) return this.sendAlone(batch);
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const r = results[i]!;
      if (r.ok) w.resolve(r.result);
      else w.reject(r.error);
    });
  }

  private sendAlone(batch: Waiting[]): void {
    for (const w of batch) {
      this.options.onBatch?.(1);
      this.store
        .call(w.call.method, w.call.params, { ...w.options, idempotent: false })
        .then(w.resolve, w.reject);
    }
  }
}

/** One call keeps its request id; a batch of several gets a fresh one (the header is per request). */
function batchOptions(batch: Waiting[]): CallOptions {
  const budgets = batch.flatMap((w) => (w.options.timeoutMs === undefined ? [] : [w.options.timeoutMs]));
  return {
    requestId: batch.length === 1 ? batch[0]!.options.requestId : undefined,
    timeoutMs: budgets.length > 0 ? Math.min(...budgets) : undefined,
  };
}
