/**
 * A TCP proxy on 127.0.0.1 that a test can cut and restore, to simulate a dependency outage,
 * and that can add latency, stall (a black hole: open connections, no bytes through) or reset
 * connections (RST), to simulate a slow or flaky network.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Refuse new connections and drop the open ones. */
  cut(): void;
  /** Accept and forward again (and end a stall). */
  restore(): void;
  /** Delay every chunk by `ms` in both directions (0: none). */
  latency(ms: number): void;
  /**
   * Keep connections open but let no byte through (dropped, not buffered), as a dead peer or a
   * lost route would; new connections hang too. One direction only: e.g. `toClient` lets requests
   * through and loses the answers. A protocol stream is garbled after this: `cut()` before `restore()`.
   */
  stall(direction?: 'both' | 'toClient' | 'toServer'): void;
  /** Reset (RST) every open connection, or each with the given probability; new ones still work. */
  reset(probability?: number): number;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let up = true;
  let stalled: 'none' | 'both' | 'toClient' | 'toServer' = 'none';
  let delayMs = 0;
  let accepted = 0;
  const pairs = new Set<[Socket, Socket]>();
  const forward = (from: Socket, to: Socket, direction: 'toClient' | 'toServer') => {
    // One queue per direction, sent in order, each item no earlier than its own due time: a change
    // of latency mid-stream never reorders bytes (nor lets the end overtake them).
    const queue: { at: number; send: () => void }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.at <= Date.now()) queue.shift()!.send();
      if (queue.length > 0) timer = setTimeout(pump, queue[0]!.at - Date.now());
    };
    const later = (send: () => void) => {
      queue.push({ at: Date.now() + delayMs, send });
      if (timer === undefined) pump();
    };
    from.on('data', (chunk: Buffer) => {
      if (stalled === 'both' || stalled === direction) return;
      later(() => {
        if (!to.destroyed && !to.write(chunk) && delayMs === 0) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
    });
    from.on('end', () => later(() => to.end()));
  };
  const server: Server = createServer((client) => {
    accepted++;
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    for (const s of pair) {
      s.on('close', () => {
        pairs.delete(pair);
        for (const other of pair) other.destroy();
      });
      s.on('error', () => s.destroy());
    }
    forward(client, upstream, 'toServer');
    forward(upstream, client, 'toClient');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    cut() {
      up = false;
      for (const pair of pairs) for (const s of pair) s.destroy();
    },
    restore() {
      up = true;
      stalled = 'none';
    },
    latency(ms) {
      delayMs = ms;
    },
    stall(direction = 'both') {
      stalled = direction;
    },
    reset(probability = 1) {
      let n = 0;
      for (const pair of [...pairs]) {
        if (Math.random() >= probability) continue;
        n++;
        pair[0].resetAndDestroy();
        pair[1].resetAndDestroy();
      }
      return n;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const pair of pairs) for (const s of pair) s.destroy();
        server.close(() => r());
      }),
  };
}
