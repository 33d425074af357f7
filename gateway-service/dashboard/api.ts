/** The REST API and its Server-Sent Events, with the session's API key when auth is on. */

const KEY = 'tasks.apiKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

export interface Problem {
  code?: string;
  title?: string;
  detail?: string;
  fields?: { path: string; message: string }[];
}

/** Called when the server asks for a key (401). */
export let onUnauthorized: () => void = () => undefined;
export const setUnauthorizedHandler = (f: () => void) => (onUnauthorized = f);

export const apiKey = {
  get: () => sessionStorage.getItem(KEY),
  set: (k: string) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json' };
  const key = apiKey.get();
  if (key) h.authorization = `Bearer ${key}`;
  if (json) h['content-type'] = 'application/json';
  return h;
}

export async function api<T>(path: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers: headers(init.json !== undefined),
    ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
  });
  const text = await res.text();
  const body = (text ? JSON.parse(text) : undefined) as unknown;
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, body ?? {});
  }
  return body as T;
}

/**
 * Reads an SSE stream with fetch (EventSource cannot send the API key) and reconnects after
 * it ends, until `stop()`, sending the last event's id as `Last-Event-ID` so that the server
 * replays what was missed (docs/events.md). `onState` tells whether the stream is open.
 */
export function stream(
  path: string,
  onEvent: (event: string, data: unknown) => void,
  onState: (open: boolean) => void = () => undefined,
  options: { reconnect?: boolean } = {},
): { stop(): void } {
  let stopped = false;
  let ctrl: AbortController | undefined;
  let lastId: string | undefined;
  const run = async () => {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const res = await fetch(path, {
          headers: { ...headers(false), ...(lastId !== undefined && { 'last-event-id': lastId }) },
          signal: ctrl.signal,
        });
        if (res.status === 401) onUnauthorized();
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onState(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
            const data = /^data: (.*)$/m.exec(block)?.[1];
            lastId = /^id: (.*)$/m.exec(block)?.[1] ?? lastId;
            if (data !== undefined) onEvent(event, JSON.parse(data));
          }
        }
      } catch {
        // closed, aborted or unreachable: reconnect below unless stopped
      }
      if (stopped) return;
      onState(false);
      if (options.reconnect === false) return;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  };
  void run();
  return {
    stop() {
      stopped = true;
      ctrl?.abort();
    },
  };
}
