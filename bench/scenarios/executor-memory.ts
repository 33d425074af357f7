/**
 * (7) Executor memory with a deep queue: work messages published straight to the io queue
 * (100,000; quick 10,000) for task ids the store does not know — the executor claims each,
 * gets TASK_NOT_FOUND, logs "task not claimable; skipped" and acks it (executor.ts) — while the
 * executor's resident set is sampled from /proc/<pid>/status. Its io prefetch (IO_CONCURRENCY,
 * 100) bounds what it holds, so its memory should not follow the queue's depth.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import amqplib from 'amqplib';
import { topology } from '@tasks/contracts';
import { scrape } from '../lib/prom-metrics.js';
import { round, spread } from '../lib/measure.js';
import { service, systemFor } from '../lib/system.js';
import type { RunContext, Scenario, ScenarioOutput } from '../lib/scenario.js';

const MiB = 1024 * 1024;
const WINDOW = 1_000;

/** VmRSS and VmHWM (peak RSS over the process's life) in MiB, from /proc/<pid>/status. */
function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: round((kb('VmRSS') * 1024) / MiB), hwmMiB: round((kb('VmHWM') * 1024) / MiB) };
  } catch {
    return null;
  }
}

interface Window {
  seconds: number;
  peakRssMiB: number;
  queueDepthStart: number;
  queueDepthEnd: number;
  consumedPerSec: number;
  maxInFlight: number | null;
}

export const executorMemory: Scenario = {
  name: 'executor-memory',
  title: 'Executor peak memory with a deep queue',
  budgetSeconds: { full: 40, quick: 11 },
  async run(ctx: RunContext): Promise<ScenarioOutput> {
    const messages = ctx.quick ? 10_000 : 100_000;
    const { system, startSeconds, stop } = await systemFor(ctx, {
      executors: 1,
      executorEnv: { LEASE_MS: '30000' },
    });
    const t = topology(system.prefix);
    const executor = service('executor-service/src/main.ts');
    const pid = executor.pid;
    const metricsUrl = `http://127.0.0.1:${executor.env.METRICS_PORT}/metrics`;
    const conn = await amqplib.connect(ctx.amqpUrl);
    const unregisterConn = ctx.cleanup.add(() => conn.close());
    const samples: { at: number; rssMiB: number }[] = [];
    let sampler: NodeJS.Timeout | undefined;
    try {
      const ch = await conn.createConfirmChannel();
      await new Promise((r) => setTimeout(r, 1_000));
      const baseline = memoryOf(pid);
      if (!baseline) throw new Error(`cannot read /proc/${pid}/status`);
      ctx.log(`executor pid ${pid}: RSS ${baseline.rssMiB} MiB idle (peak so far ${baseline.hwmMiB} MiB)`);
      sampler = setInterval(() => {
        const m = memoryOf(pid);
        if (m) samples.push({ at: Date.now(), rssMiB: m.rssMiB });
      }, 100);
      const t0 = performance.now();
      let unconfirmed = 0;
      let wake: (() => void) | undefined;
      for (let i = 0; i < messages; i++) {
        while (unconfirmed >= WINDOW) await new Promise<void>((r) => (wake = r));
        unconfirmed++;
        const body = Buffer.from(
          JSON.stringify({ taskId: randomUUID(), type: 'noop', kind: 'io', version: 1 }),
        );
        const ok = ch.publish(
          t.workExchange,
          'noop',
          body,
          { persistent: true, contentType: 'application/json' },
          () => {
            unconfirmed--;
            const w = wake;
            wake = undefined;
            w?.();
          },
        );
        if (!ok) await new Promise((r) => ch.once('drain', r));
        if (performance.now() - t0 > ctx.budget.totalMs * 0.5)
          throw new Error(`publishing ${messages} messages took over half the budget`);
      }
      await ch.waitForConfirms();
      const publishSeconds = round((performance.now() - t0) / 1000, 2);
      const depth = async () => (await ch.checkQueue(t.typeQueue('noop'))).messageCount;
      const afterPublish = await depth();
      ctx.log(
        `${messages.toLocaleString('en')} messages published in ${publishSeconds} s; ${afterPublish.toLocaleString('en')} waiting`,
      );
      const windowMs = Math.max(1_500, Math.min(8_000, (ctx.budget.remainingMs() - 5_000) / 3));
      const windows: Window[] = [];
      for (let rep = 1; rep <= 3; rep++) {
        const from = Date.now();
        const d0 = await depth();
        let maxInFlight: number | null = null;
        while (Date.now() - from < windowMs) {
          const m = await scrape(metricsUrl);
          const key = [...m.keys()].find(
            (k) => k.startsWith('executor_tasks_in_flight{') && k.includes('kind="io"'),
          );
          const v = key === undefined ? undefined : m.get(key);
          if (v !== undefined) maxInFlight = Math.max(maxInFlight ?? 0, v);
          await new Promise((r) => setTimeout(r, 250));
        }
        const d1 = await depth();
        const seconds = (Date.now() - from) / 1000;
        const inWindow = samples.filter((s) => s.at >= from).map((s) => s.rssMiB);
        const w: Window = {
          seconds: round(seconds, 2),
          peakRssMiB: Math.max(...inWindow),
          queueDepthStart: d0,
          queueDepthEnd: d1,
          consumedPerSec: round((d0 - d1) / seconds),
          maxInFlight,
        };
        windows.push(w);
        ctx.log(
          `window ${rep}: peak RSS ${w.peakRssMiB} MiB, queue ${d0.toLocaleString('en')} → ${d1.toLocaleString('en')} (${w.consumedPerSec}/s acked), max in flight ${maxInFlight ?? '?'}`,
        );
      }
      clearInterval(sampler);
      const end = memoryOf(pid);
      const all = samples.map((s) => s.rssMiB);
      return {
        settings: {
          messages,
          messagesReason: ctx.quick
            ? 'quick mode: 10,000 messages instead of 100,000 (publishing 100,000 with confirms alone takes longer than the 2-minute run allows)'
            : '100,000 messages as asked',
          ioPrefetch: 100,
          windowSeconds: round(windowMs / 1000, 1),
          systemStartSeconds: startSeconds,
        },
        summary: {
          messages,
          queueDepthAfterPublish: afterPublish,
          publishSeconds,
          baselineRssMiB: baseline.rssMiB,
          peakRssMiB: Math.max(...all),
          windowPeakRssMiB: spread(windows.map((w) => w.peakRssMiB)),
          vmHwmMiB: end?.hwmMiB ?? null,
          consumedPerSec: spread(windows.map((w) => w.consumedPerSec)),
          maxInFlight: Math.max(...windows.map((w) => w.maxInFlight ?? 0)),
          ioPrefetch: 100,
        },
        details: {
          windows,
          rssSamplesMiB: { count: all.length, min: Math.min(...all), max: Math.max(...all) },
        },
        notes: [
          'The messages name task ids the store does not have: the executor claims each (one store call, TASK_NOT_FOUND) and acks it; no task runs. Publishing goes straight to the work exchange with confirms, bypassing the gateway.',
          "RSS is sampled every 100 ms from /proc/<pid>/status while the messages are published and during 3 windows after; VmHWM is the kernel's peak over the executor's whole life (start-up included).",
          'In flight = the executor_tasks_in_flight{kind="io"} gauge from its /metrics, sampled every 250 ms: bounded by the io prefetch (IO_CONCURRENCY, 100).',
        ],
      };
    } finally {
      if (sampler) clearInterval(sampler);
      unregisterConn();
      await conn.close().catch(() => undefined);
      await stop();
    }
  },
};
