/**
 * Reads the services' Prometheus endpoints before and after a run, so a run can say where the
 * time went: store JSON-RPC calls per method (count, mean latency, errors) and a few counters.
 */
import { round } from '../store/measure.js';

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
