/**
 * Knows when our tasks are done without asking the store: a private, exclusive queue bound to
 * the system's status-events exchange for the terminal statuses. Polling GET /v1/stats instead
 * costs three full collection scans per poll on FerretDB (seconds each under load) and would
 * slow down the system being measured. Events are best effort, so waitFor() checks the store
 * itself when no event has arrived for a while; the figures are always read from the store.
 */
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { TERMINAL_STATUSES } from '@tasks/contracts';

export class TerminalEvents {
  private readonly seen = new Map<string, string>();
  /** When each task's terminal event arrived (epoch ms), or when a store check found it ended. */
  private readonly seenAt = new Map<string, number>();
  private lastEventAt = Date.now();

  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: Channel,
  ) {}

  static async open(amqpUrl: string, eventsExchange: string): Promise<TerminalEvents> {
    const conn = await amqplib.connect(amqpUrl);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    for (const status of TERMINAL_STATUSES) await ch.bindQueue(queue, eventsExchange, `status.${status}.#`);
    const events = new TerminalEvents(conn, ch);
    await ch.consume(
      queue,
      (msg) => {
        if (!msg) return;
        try {
          const e = JSON.parse(msg.content.toString('utf8')) as { taskId?: unknown; status?: unknown };
          if (typeof e.taskId === 'string' && typeof e.status === 'string') {
            events.seen.set(e.taskId, e.status);
            events.lastEventAt = Date.now();
            events.seenAt.set(e.taskId, events.lastEventAt);
          }
        } catch {
          // not an event of ours
        }
      },
      { noAck: true },
    );
    return events;
  }

  /** The broker's product and version, as it announced them. */
  get server(): string {
    const p = this.conn.connection.serverProperties;
    return `${String(p.product ?? 'AMQP')} ${String(p.version ?? '?')}`;
  }

  /** Marks tasks found terminal by other means (a store check). */
  note(id: string, status: string): void {
    this.seen.set(id, status);
    if (!this.seenAt.has(id)) this.seenAt.set(id, Date.now());
  }

  /** When the last of `ids` was seen ending (epoch ms), if all were. */
  lastEndedAt(ids: string[]): number | undefined {
    let last = 0;
    for (const id of ids) {
      const at = this.seenAt.get(id);
      if (at === undefined) return undefined;
      last = Math.max(last, at);
    }
    return ids.length > 0 ? last : undefined;
  }

  /** The statuses seen for `ids` (missing ones as "unknown"), counted. */
  statuses(ids: string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const id of ids) {
      const s = this.seen.get(id) ?? 'unknown';
      out[s] = (out[s] ?? 0) + 1;
    }
    return out;
  }

  /**
   * Resolves true when every id has ended, false at the deadline. `check` is called when no
   * event came for `stallMs` and should report the ids the store says have ended; it gets the
   * time left and must not take longer.
   */
  async waitFor(
    ids: string[],
    deadline: number,
    check: (timeoutMs: number) => Promise<Map<string, string>>,
    onStall: (ended: number) => void,
    stallMs = 15_000,
  ): Promise<boolean> {
    let lastCheck = Date.now();
    for (;;) {
      const ended = ids.filter((id) => this.seen.has(id)).length;
      if (ended === ids.length) return true;
      if (Date.now() > deadline) return false;
      if (Date.now() - Math.max(this.lastEventAt, lastCheck) > stallMs) {
        onStall(ended);
        const found = await check(Math.max(1_000, deadline - Date.now())).catch(
          () => new Map<string, string>(),
        );
        for (const [id, status] of found) this.note(id, status);
        lastCheck = Date.now();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    await this.ch.close().catch(() => undefined);
    await this.conn.close().catch(() => undefined);
  }
}
