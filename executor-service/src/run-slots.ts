/**
 * At most `size` deliveries of one kind handled at once; the others wait for a slot, unacked.
 * Routing by type gives each type its own consumer and prefetch, so this bounds the kind's
 * concurrency across all of them (RabbitMQ's quorum queues have no per-channel prefetch).
 */
export class RunSlots {
  private free: number;
  private readonly waiting: ((granted: boolean) => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Resolves true with a slot, or false when the wait was cancelled (shutdown). */
  acquire(): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.free++;
  }

  /** Every waiter gets false: at shutdown, deliveries that have not started go back to the queue. */
  cancelWaiting(): void {
    for (const resolve of this.waiting.splice(0)) resolve(false);
  }

  get waitingCount(): number {
    return this.waiting.length;
  }
}
