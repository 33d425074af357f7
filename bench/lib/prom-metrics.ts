/**
 * Reads the services' Prometheus endpoints before and after a run, so a run can say where the
 * time went: store JSON-RPC calls per method (count, mean latency, errors) and a few counters.
 */
import { round } from './measure.js';

/** Sample name with its labels (as printed) → value. */
export type Samples = Map<string, number>;

export async function scrape(url: string): Promise<Samples> {
  const samples: Samples = new Map();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    for (const line of (await res.text()).split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const at = line.lastIndexOf(' ');
      samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  } catch {
    // a missing scrape leaves the figures out; it does not fail the run
  }
  return samples;
}

function label(key: string, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(key)?.[1];
}

function delta(before: Samples, after: Samples, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

/** task_store_rpc_* between two scrapes: calls, mean latency and non-ok outcomes per method. */
export function storeRpcDelta(
  before: Samples,
  after: Samples,
): Record<string, { calls: number; meanMs: number; errors: number }> {
  const out: Record<string, { calls: number; meanMs: number; errors: number }> = {};
  for (const key of after.keys()) {
    if (!key.startsWith('task_store_rpc_duration_seconds_count{')) continue;
    const method = label(key, 'method');
    if (!method) continue;
    const calls = delta(before, after, key);
    if (calls <= 0) continue;
    const sum = delta(before, after, key.replace('_count{', '_sum{'));
    out[method] = { calls, meanMs: round((sum / calls) * 1000), errors: 0 };
  }
  for (const key of after.keys()) {
    if (!key.startsWith('task_store_rpc_calls_total{')) continue;
    const method = label(key, 'method');
    const outcome = label(key, 'outcome');
    if (!method || !outcome || outcome === 'ok' || !out[method]) continue;
    out[method].errors += delta(before, after, key);
  }
  return out;
}

/** Counters (summed over their labels unless a label filter is given) between two scrapes. */
export function counterDelta(
  before: Samples,
  after: Samples,
  name: string,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  for (const key of after.keys()) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).some(([k, v]) => label(key, k) !== v)) continue;
    total += delta(before, after, key);
  }
  return total;
}

/** Mean of a histogram between two scrapes, per value of one label (e.g. the gateway's routes). */
export function histogramMeans(
  before: Samples,
  after: Samples,
  name: string,
  by: string,
): Record<string, { count: number; meanMs: number }> {
  const out: Record<string, { count: number; meanMs: number }> = {};
  for (const key of after.keys()) {
    if (!key.startsWith(`${name}_count{`)) continue;
    const value = label(key, by);
    const count = delta(before, after, key);
    if (!value || count <= 0) continue;
    const sum = delta(before, after, key.replace('_count{', '_sum{'));
    out[value] = { count, meanMs: round((sum / count) * 1000) };
  }
  return out;
}

/**
 * What the store did per accepted task between two scrapes of its /metrics: JSON-RPC calls (a
 * call in a batch counts once), HTTP requests to /rpc (task_store_rpc_requests_total{kind="http"},
 * when the store exposes it) and database operations (task_store_db_commands_total, every command
 * the store sent; when the store does not expose it, PostgreSQL's commits per task stand in,
 * which is what each FerretDB operation costs there, and `source` says so).
 */
export interface StoreWork {
  rpcCallsPerTask: number;
  rpcHttpRequestsPerTask: number | null;
  dbOpsPerTask: number | null;
  dbOpsSource: 'task_store_db_commands_total' | 'postgresql commits' | null;
  /** By command name (find, insert, update, ...), when the metric is there. */
  dbOpsByCommand?: Record<string, number>;
}

const has = (samples: Samples, name: string) =>
  [...samples.keys()].some((k) => k === name || k.startsWith(`${name}{`));

export function storeWork(
  before: Samples,
  after: Samples,
  tasks: number,
  postgresCommitsPerTask: number | undefined,
): StoreWork {
  const per = (n: number) => round(n / Math.max(1, tasks), 2);
  const calls = [...after.keys()]
    .filter((k) => k.startsWith('task_store_rpc_duration_seconds_count{'))
    .reduce((sum, k) => sum + delta(before, after, k), 0);
  const http = has(after, 'task_store_rpc_requests_total')
    ? per(counterDelta(before, after, 'task_store_rpc_requests_total', { kind: 'http' }))
    : null;
  if (has(after, 'task_store_db_commands_total')) {
    const byCommand: Record<string, number> = {};
    for (const key of after.keys()) {
      if (!key.startsWith('task_store_db_commands_total{')) continue;
      const command = label(key, 'command') ?? '?';
      byCommand[command] = (byCommand[command] ?? 0) + delta(before, after, key);
    }
    return {
      rpcCallsPerTask: per(calls),
      rpcHttpRequestsPerTask: http,
      dbOpsPerTask: per(counterDelta(before, after, 'task_store_db_commands_total')),
      dbOpsSource: 'task_store_db_commands_total',
      dbOpsByCommand: Object.fromEntries(Object.entries(byCommand).map(([c, n]) => [c, per(n)])),
    };
  }
  return {
    rpcCallsPerTask: per(calls),
    rpcHttpRequestsPerTask: http,
    dbOpsPerTask: postgresCommitsPerTask ?? null,
    dbOpsSource: postgresCommitsPerTask === undefined ? null : 'postgresql commits',
  };
}
