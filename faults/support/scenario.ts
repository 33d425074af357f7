/**
 * One fault scenario = one mocha test: the whole system on loopback against the suite's private
 * RabbitMQ node, a load, a fault, then the invariants (checks.ts); its row goes into the table.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSystem, type RunningSystem, type SystemOptions } from '@tasks/testkit';
import { newLoad, type Load } from './load.js';
import type { RabbitNode } from '@tasks/testkit';
import { rabbit, report } from './suite.js';

export const FIXTURE_TASKS = fileURLToPath(new URL('../fixtures/tasks', import.meta.url));

export interface ScenarioContext {
  sys: RunningSystem;
  node: RabbitNode;
  load: Load;
  /** The run log of `faults.record` tasks (one line per handler run that reached its end). */
  runLog: string;
  logDir: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `check` is true; throws `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
  return Date.now() - t0;
}

/** Terminal tasks so far (cheap: the store's counts). */
export async function finishedCount(sys: RunningSystem, token?: string): Promise<number> {
  const res = await fetch(sys.storeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tasks.stats', params: {} }),
  });
  const s = ((await res.json()) as { result: { byStatus: Record<string, number> } }).result.byStatus;
  return (s.succeeded ?? 0) + (s.failed ?? 0) + (s.cancelled ?? 0);
}

/** A Prometheus counter's sum over the series whose labels include `labels`. */
export async function metric(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

export function scenario(
  title: string,
  meta: { load: string; fault: string },
  /** The system's options, or a function making them (e.g. after starting a proxy to put in front). */
  options: SystemOptions | ((defer: (cleanup: () => Promise<void>) => void) => Promise<SystemOptions>),
  run: (c: ScenarioContext) => Promise<string>,
): void {
  it(title, async function () {
    this.timeout(8 * 60_000);
    const t0 = Date.now();
    const logDir = mkdtempSync(join(tmpdir(), 'faults-logs-'));
    const node = rabbit();
    let sys: RunningSystem | undefined;
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const opts = typeof options === 'function' ? await options((c) => cleanups.push(c)) : options;
      sys = await startSystem({
        executors: 2,
        amqpUrl: node.url,
        logDir,
        ...opts,
        executorEnv: { TASKS_DIR: FIXTURE_TASKS, ...opts.executorEnv },
      });
      const outcome = await run({ sys, node, load: newLoad(), runLog: join(logDir, 'runs.log'), logDir });
      report({ scenario: title, ...meta, outcome, passed: true, seconds: (Date.now() - t0) / 1000 });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      report({
        scenario: title,
        ...meta,
        outcome: message.slice(0, 300),
        passed: false,
        seconds: (Date.now() - t0) / 1000,
      });
      for (const f of readdirSync(logDir).filter((f) => f.endsWith('.log') && f !== 'runs.log')) {
        const lines = readFileSync(join(logDir, f), 'utf8').trim().split('\n');
        process.stderr.write(
          `--- ${f} (last 15 of ${lines.length} lines) ---\n${lines.slice(-15).join('\n')}\n`,
        );
      }
      throw err;
    } finally {
      if (sys) {
        for (const child of sys.children.values()) if (child.exitCode === null) child.kill('SIGCONT');
        await sys
          .stop()
          .catch((err: unknown) => process.stderr.write(`stopping the system: ${String(err)}\n`));
      }
      for (const cleanup of cleanups) await cleanup();
    }
  });
}
