/**
 * At most `size` deliveries of one kind handled at once; the others wait for a slot, unacked.
 * Routing by type gives each type its own consumer and prefetch, so this bounds the kind's
 * concurrency across all of them (RabbitMQ's quorum queues have no per-channel prefetch).
 *
 * The wait list is where priorities take effect (docs/priorities.md): a freed slot goes to the
 * waiting delivery of the highest priority, the longest-waiting one among equals.
 */
interface Waiter {
  priority: number;
  resolve: (granted: boolean) => void;
}

export class RunSlots {
  private free: number;
  /** Highest priority first; FIFO within a priority. */
  private readonly waiting: Waiter[] = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Resolves true with a slot, or false when the wait was cancelled (shutdown). */
  acquire(priority = 0): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      // From the back: most waiters arrive behind others of the same or a higher priority.
      let at = this.waiting.length;
      while (at > 0 && this.waiting[at - 1]!.priority < priority) at--;
      this.waiting.splice(at, 0, { priority, resolve });
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve(true);
    else this.free++;
  }

  /** Every waiter gets false: at shutdown, deliveries that have not started go back to the queue. */
  cancelWaiting(): void {
    for (const { resolve } of this.waiting.splice(0)) resolve(false);
  }

  get waitingCount(): number {
    return this.waiting.length;
  }
}
