/**
 * tasks.markPublished, coalesced. The broker's confirm is what makes a publish count; the mark
 * only spares the dispatcher a republish, so requests do not wait for it. One call is in flight
 * at a time and whatever is confirmed meanwhile goes in the next one: under load one store call
 * marks many tasks, and when idle a mark goes out at once. A lost mark costs a duplicate
 * publish, which the store refuses at claim time.
 */
import type { TaskStoreClient } from '@tasks/contracts';
import type { Logger } from 'pino';

/** The most tasks tasks.markPublished takes in one call. */
const MAX_BATCH = 1_000;

export interface PublishedTask {
  id: string;
  version: number;
}

/** Nobody waits on a mark, so it may take longer than a request's store budget. */
const MARK_TIMEOUT_MS = 30_000;

export class PublishedMarks {
  private pending: PublishedTask[] = [];
  private sending: Promise<void> | null = null;

  constructor(
    private readonly store: TaskStoreClient,
    private readonly log: Logger,
  ) {}

  add(tasks: PublishedTask[]): void {
    this.pending.push(...tasks);
    this.sending ??= this.send();
  }

  /** Resolves when everything added so far has been sent (or failed); for shutdown and tests. */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private async send(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      await this.store
        .call('tasks.markPublished', { tasks: batch }, { timeoutMs: MARK_TIMEOUT_MS })
        .catch((err: unknown) =>
          this.log.warn(
            { err, tasks: batch.length },
            'markPublished failed; the dispatcher will publish these again (duplicates are harmless)',
          ),
        );
    }
    this.sending = null;
  }
}
