/**
 * Resuming `/v1/events` after a reconnect (docs/events.md). Every event's `id:` is
 * `<updatedAt ms>.<version>.<taskId>`; a client that comes back with `Last-Event-ID` first gets,
 * from the store, the latest status of every task changed since that instant (within the replay
 * window), then the live events — those the replay already covered are dropped.
 */
import type { StatusEvent, TaskStatus, TaskStoreClient } from '@tasks/contracts';
import type { Logger } from 'pino';
import type { EventHub, Subscription } from './event-hub.js';

/** At most this many tasks are replayed; when more changed, the client is told to reload (`reset`). */
export const REPLAY_LIMIT = 1000;

export interface EventPosition {
  at: number;
  version: number;
  taskId: string;
}

export function eventId(e: StatusEvent): string {
  return `${Date.parse(e.at)}.${e.version}.${e.taskId}`;
}

/** The position a `Last-Event-ID` names, or null when it is not one of ours. */
export function parseEventId(text: string): EventPosition | null {
  const m = /^(\d{1,15})\.(\d{1,12})\.([A-Za-z0-9_.:-]{1,100})$/.exec(text);
  if (!m) return null;
  return { at: Number(m[1]), version: Number(m[2]), taskId: m[3]! };
}

export interface EventFilter {
  type?: string;
  status?: TaskStatus;
}

/**
 * Opens the all-tasks stream: live events are held back while the replay (if any) is read, then
 * sent in order. `ready` marks the point where the client is caught up; its data says how many
 * events were replayed. A replay that cannot be complete (too old, too many, the store did not
 * answer) sends `reset` first: the client should reload what it shows.
 */
export function openEventStream(
  hub: EventHub,
  store: TaskStoreClient,
  filter: EventFilter,
  lastEventId: string | undefined,
  log: Logger,
): Subscription {
  const wanted = (e: StatusEvent) =>
    (!filter.type || e.type === filter.type) && (!filter.status || e.status === filter.status);
  const replayed = new Map<string, number>(); // taskId → the version the replay sent
  let held: StatusEvent[] | null = lastEventId === undefined ? null : [];
  const sendLive = (s: Subscription, e: StatusEvent) => {
    if ((replayed.get(e.taskId) ?? 0) >= e.version) return;
    s.send('status', e, eventId(e));
  };
  const sub = hub.open((e, s) => {
    if (!wanted(e)) return;
    if (held) held.push(e);
    else sendLive(s, e);
  });
  if (lastEventId === undefined) {
    sub.send('ready', {});
    return sub;
  }
  const from = parseEventId(lastEventId);
  const replay = from
    ? store.call('tasks.changes', {
        since: new Date(from.at).toISOString(),
        seen: [`${from.taskId}:${from.version}`],
        limit: REPLAY_LIMIT,
        ...filter,
      })
    : Promise.resolve({ items: [], complete: false });
  void replay
    .catch((err: unknown) => {
      log.warn({ err }, 'could not replay missed events; the client is told to reload');
      return { items: [], complete: false };
    })
    .then(({ items, complete }) => {
      if (!complete) {
        sub.send('reset', { detail: 'missed events cannot be replayed; reload the current state' });
      }
      for (const e of items) {
        replayed.set(e.taskId, e.version);
        sub.send('status', e, eventId(e));
      }
      const live = held ?? [];
      held = null;
      for (const e of live) sendLive(sub, e);
      sub.send('ready', { replayed: items.length, complete });
    });
  return sub;
}
