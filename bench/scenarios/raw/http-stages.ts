/**
 * The two HTTP hops alone: a bare Koa route driven by autocannon (C connections, as fast as it
 * answers), and a jayson echo call through jayson's HTTP client with a keep-alive agent (C
 * callers in a loop). The servers run in helper processes, the clients here.
 */
import { Agent } from 'node:http';
import autocannon from 'autocannon';
import jayson from 'jayson';
import { percentile, round } from '../../lib/measure.js';
import { startHelper } from '../../lib/child.js';
import { meter, type Stage } from './stage.js';

const CONCURRENCY = 16;

export function koaStage(): Stage {
  return {
    name: 'bare Koa route (autocannon)',
    op: 'POST /tasks with a JSON body → 201 JSON, keep-alive',
    async setup() {
      const helper = await startHelper<{ port: number }>(new URL('./koa-server.ts', import.meta.url));
      const pids = [helper.child.pid!];
      return {
        serverPids: pids,
        async run(ms) {
          const cpu = meter(pids);
          const r = await autocannon({
            url: `http://127.0.0.1:${helper.ready.port}/tasks`,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'noop', payload: {} }),
            connections: CONCURRENCY,
            duration: ms / 1000,
          });
          return {
            ops: r['2xx'],
            seconds: r.duration,
            perSec: round(r['2xx'] / r.duration),
            latencyMs: { p50: r.latency.p50, p99: r.latency.p99 },
            cpu: cpu(),
            extra: { connections: CONCURRENCY, non2xx: r.non2xx, errors: r.errors },
          };
        },
        teardown: () => helper.stop(),
      };
    },
  };
}

export function jaysonStage(): Stage {
  return {
    name: 'jayson echo call (keep-alive agent)',
    op: 'JSON-RPC 2.0 call echo({taskId, workerId}) over HTTP',
    async setup() {
      const helper = await startHelper<{ port: number }>(new URL('./jayson-server.ts', import.meta.url));
      const pids = [helper.child.pid!];
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const client = jayson.Client.http({ host: '127.0.0.1', port: helper.ready.port, agent });
      const call = (params: Record<string, unknown>) =>
        new Promise<void>((resolve, reject) => {
          client.request('echo', params, (err: unknown, response: unknown) => {
            if (err) reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
            else if ((response as { error?: unknown }).error) reject(new Error('echo answered an error'));
            else resolve();
          });
        });
      return {
        serverPids: pids,
        async run(ms) {
          const cpu = meter(pids);
          const t0 = performance.now();
          const end = t0 + ms;
          const latencies: number[] = [];
          let firstError: string | undefined;
          const worker = async () => {
            while (performance.now() < end) {
              const s = performance.now();
              try {
                await call({ taskId: 'c4ca4238-a0b9-3382-8dcc-509a6f75849b', workerId: 'bench' });
                latencies.push(performance.now() - s);
              } catch (err) {
                firstError ??= err instanceof Error ? err.message : String(err);
              }
            }
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, worker));
          const seconds = (performance.now() - t0) / 1000;
          return {
            ops: latencies.length,
            seconds: round(seconds, 2),
            perSec: round(latencies.length / seconds),
            latencyMs: { p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2) },
            cpu: cpu(),
            extra: { callers: CONCURRENCY, ...(firstError && { firstError }) },
          };
        },
        async teardown() {
          agent.destroy();
          await helper.stop();
        },
      };
    },
  };
}
