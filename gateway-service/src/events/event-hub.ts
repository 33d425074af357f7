/**
 * Fans the status events of the RabbitMQ topic exchange out to Server-Sent Events streams.
 * One exclusive queue per gateway; each stream filters what it wants. A stream whose client
 * falls more than `maxBufferBytes` behind is closed (memory stays bounded); the client can
 * reconnect and gets the current state first.
 */
import { PassThrough } from 'node:stream';
import { TERMINAL_STATUSES, type Flow, type StatusEvent, type Task } from '@tasks/contracts';
import type { Broker } from '@tasks/messaging';
import type { GatewayMetrics } from '../metrics.js';

export interface Subscription {
  stream: PassThrough;
  /** Writes one SSE message; false when the stream was closed (client gone or too slow). */
  send(event: string, data: unknown, id?: string): boolean;
  close(): void;
}

type Listener = (e: StatusEvent) => void;

export class EventHub {
  private readonly listeners = new Set<Listener>();
  private readonly openSubs = new Set<Subscription>();

  constructor(
    private readonly maxBufferBytes: number,
    private readonly metrics: GatewayMetrics,
  ) {}

  attach(broker: Broker): void {
    broker.subscribe('status.#', (body) => {
      const e = body as StatusEvent;
      if (typeof e?.taskId !== 'string' || typeof e.version !== 'number') return;
      for (const l of this.listeners) l(e);
    });
  }

  /** Opens a stream; `onEvent` sees every status event until the subscription closes. */
  open(onEvent: (e: StatusEvent, sub: Subscription) => void): Subscription {
    const stream = new PassThrough();
    let closed = false;
    const keepAlive = setInterval(() => sub.send('ping', {}), 15_000);
    const listener: Listener = (e) => onEvent(e, sub);
    const sub: Subscription = {
      stream,
      send: (event, data, id) => {
        if (closed) return false;
        if (stream.writableLength > this.maxBufferBytes) {
          stream.end(
            'event: overflow\ndata: {"detail":"client too slow; reconnect for the current state"}\n\n',
          );
          sub.close();
          return false;
        }
        stream.write(
          `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
        );
        return true;
      },
      close: () => {
        if (closed) return;
        closed = true;
        clearInterval(keepAlive);
        this.listeners.delete(listener);
        this.openSubs.delete(sub);
        this.metrics.sseClients.dec();
        if (!stream.writableEnded) stream.end();
      },
    };
    stream.on('close', () => sub.close());
    this.listeners.add(listener);
    this.openSubs.add(sub);
    this.metrics.sseClients.inc();
    return sub;
  }

  /** Ends every stream (shutdown): EventSource clients reconnect, to another replica if there is one. */
  closeAll(): void {
    for (const sub of [...this.openSubs]) {
      if (!sub.stream.writableEnded) sub.stream.write('event: shutdown\ndata: {}\n\n');
      sub.close();
    }
    this.listeners.clear();
  }
}

/**
 * The stream of one task: its current state first, then each newer version in order, closing
 * after a terminal state. Events older than what was sent are dropped; a gap (a missed event)
 * is filled by reading the task again, so the client always ends on the true state. Each event's
 * id is the task's version: a client resuming with `Last-Event-ID` (`after`) gets the current
 * state only when it is newer than what it has, and a stream whose task ended by then closes.
 */
export function followTask(
  hub: EventHub,
  id: string,
  load: () => Promise<Task>,
  shape: (t: Task) => unknown,
  after = 0,
): Subscription {
  let sent = after;
  let loading = true;
  const early: StatusEvent[] = [];
  const deliver = (sub: Subscription, version: number, status: string, data: unknown) => {
    if (version <= sent) return;
    sent = version;
    sub.send('status', data, String(version));
    if (TERMINAL_STATUSES.includes(status as never)) sub.close();
  };
  const refresh = (sub: Subscription) =>
    load().then(
      (t) => deliver(sub, t.version, t.status, shape(t)),
      () => sub.close(),
    );
  const sub = hub.open((e, s) => {
    if (e.taskId !== id) return;
    if (loading) return void early.push(e);
    if (e.version > sent + 1) void refresh(s);
    else deliver(s, e.version, e.status, e);
  });
  void load().then(
    (t) => {
      loading = false;
      deliver(sub, t.version, t.status, shape(t));
      // Resumed after the end: the client already has the last state.
      if (TERMINAL_STATUSES.includes(t.status) && t.version <= sent) return sub.close();
      for (const e of early.sort((a, b) => a.version - b.version)) {
        if (e.version > sent + 1) void refresh(sub);
        else deliver(sub, e.version, e.status, e);
      }
    },
    () => sub.close(),
  );
  return sub;
}

/**
 * The stream of one flow: the whole flow first, then again after each change to one of its nodes
 * (read from the store: a node's end can cancel or queue others in the same store call), closing
 * once the flow has ended. Reads are coalesced: events that arrive during one cause one more.
 */
export function followFlow(hub: EventHub, id: string, load: () => Promise<Flow>): Subscription {
  let last = '';
  let loading: Promise<void> | null = null;
  let again = false;
  const refresh = (sub: Subscription): void => {
    if (loading) {
      again = true;
      return;
    }
    loading = load().then(
      (flow) => {
        const text = JSON.stringify(flow);
        if (text !== last) {
          last = text;
          sub.send('flow', flow);
          if (flow.status !== 'running') sub.close();
        }
      },
      () => sub.close(),
    );
    void loading.finally(() => {
      loading = null;
      if (again) {
        again = false;
        refresh(sub);
      }
    });
  };
  const sub = hub.open((e, s) => {
    if (e.flowId === id) refresh(s);
  });
  refresh(sub);
  return sub;
}
