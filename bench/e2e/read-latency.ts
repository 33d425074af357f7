/**
 * What a person at the dashboard or a script waits for with many tasks stored, through the
 * gateway: every list filter shape (none, status, type, status and type) on its first page and
 * five pages deep (following nextCursor), GET /v1/tasks/:id of tasks those pages returned, and
 * GET /v1/stats. One untimed call of each first, then `samples` timed ones, one after the other
 * (no concurrent load): p50 and max per row. Used by the e2e-stored scenario and bench/targets.ts.
 */
import { percentile, round } from '../store/measure.js';

export interface ReadRow {
  /** e.g. "list status=failed&type=noop, page 5", "get", "stats". */
  what: string;
  kind: 'list' | 'get' | 'stats';
  samples: number;
  p50Ms: number | null;
  maxMs: number | null;
  /** Calls that did not answer 200 (e.g. 503 when the store did not answer in time), with the first reason. */
  failures: number;
  firstError?: string;
}

export interface ReadOptions {
  gatewayUrl: string;
  samples: number;
  /** Task types to filter by (the first is used alone and with a status). */
  type: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  log?: (line: string) => void;
}

const PAGE_SIZE = 50;
const DEPTH = 5;

/** The filter shapes a list page can have. */
function shapes(type: string): Record<string, string>[] {
  return [{}, { status: 'succeeded' }, { status: 'failed' }, { type }, { status: 'failed', type }];
}

interface Answer {
  ms: number;
  body: unknown;
  error?: string;
}

async function timedGet(url: string, o: ReadOptions): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, {
      headers: o.headers,
      signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) return { ms, body: null, error: `HTTP ${res.status}: ${text.slice(0, 200)}` };
    return { ms, body: JSON.parse(text) as unknown };
  } catch (err) {
    return { ms: performance.now() - t0, body: null, error: err instanceof Error ? err.message : String(err) };
  }
}

function row(what: string, kind: ReadRow['kind'], answers: Answer[]): ReadRow {
  const ok = answers.filter((a) => a.error === undefined).map((a) => a.ms);
  const failed = answers.filter((a) => a.error !== undefined);
  return {
    what,
    kind,
    samples: ok.length,
    p50Ms: ok.length > 0 ? round(percentile(ok, 50)) : null,
    maxMs: ok.length > 0 ? round(Math.max(...ok)) : null,
    failures: failed.length,
    ...(failed[0] && { firstError: failed[0].error }),
  };
}

/** The cursor that leads to page `depth` of `filter` (page 1: none), and ids seen on the way. */
async function cursorTo(
  filter: Record<string, string>,
  depth: number,
  o: ReadOptions,
  ids: Set<string>,
): Promise<string | null | undefined> {
  let cursor: string | undefined;
  for (let page = 1; page < depth; page++) {
    const q = new URLSearchParams({ ...filter, limit: String(PAGE_SIZE), ...(cursor && { cursor }) });
    const a = await timedGet(`${o.gatewayUrl}/v1/tasks?${q.toString()}`, o);
    const body = a.body as { items?: { id: string }[]; nextCursor?: string | null } | null;
    if (!body?.items) return undefined;
    for (const t of body.items) ids.add(t.id);
    if (!body.nextCursor) return null; // fewer pages than `depth`
    cursor = body.nextCursor;
  }
  return cursor ?? null;
}

export async function measureReads(o: ReadOptions): Promise<ReadRow[]> {
  const rows: ReadRow[] = [];
  const ids = new Set<string>();
  for (const filter of shapes(o.type)) {
    const name = new URLSearchParams(filter).toString() || 'no filter';
    for (const depth of [1, DEPTH]) {
      const what = `list ${name}, page ${depth}`;
      const cursor = depth === 1 ? undefined : await cursorTo(filter, depth, o, ids);
      if (cursor === null || (depth > 1 && cursor === undefined)) {
        rows.push({
          what,
          kind: 'list',
          samples: 0,
          p50Ms: null,
          maxMs: null,
          failures: cursor === undefined ? 1 : 0,
          firstError: cursor === undefined ? 'the pages before it failed' : `fewer than ${depth} pages`,
        });
        continue;
      }
      const q = new URLSearchParams({ ...filter, limit: String(PAGE_SIZE), ...(cursor && { cursor }) });
      const url = `${o.gatewayUrl}/v1/tasks?${q.toString()}`;
      const answers: Answer[] = [];
      for (let i = 0; i <= o.samples; i++) {
        const a = await timedGet(url, o);
        for (const t of (a.body as { items?: { id: string }[] } | null)?.items ?? []) ids.add(t.id);
        if (i > 0) answers.push(a); // the first is the warm-up
      }
      rows.push(row(what, 'list', answers));
      o.log?.(`${what}: p50 ${rows.at(-1)!.p50Ms} ms`);
    }
  }
  const pool = [...ids];
  const gets: Answer[] = [];
  for (let i = 0; i <= o.samples * 4 && pool.length > 0; i++) {
    const a = await timedGet(`${o.gatewayUrl}/v1/tasks/${pool[(i * 7919) % pool.length]!}`, o);
    if (i > 0) gets.push(a);
  }
  rows.push(row('get', 'get', gets));
  const stats: Answer[] = [];
  for (let i = 0; i <= o.samples; i++) {
    const a = await timedGet(`${o.gatewayUrl}/v1/stats`, o);
    if (i > 0) stats.push(a);
  }
  rows.push(row('stats', 'stats', stats));
  o.log?.(`get p50 ${rows.at(-2)!.p50Ms} ms, stats p50 ${rows.at(-1)!.p50Ms} ms`);
  return rows;
}

/** The figures the targets are about: get p50, stats p50, and the slowest list page's p50. */
export function readFigures(rows: ReadRow[]): {
  getP50Ms: number | null;
  statsP50Ms: number | null;
  slowestListP50Ms: number | null;
  slowestList: string | null;
  listRowsMissing: number;
} {
  const lists = rows.filter((r) => r.kind === 'list');
  const measured = lists.filter((r) => r.p50Ms !== null);
  const slowest = measured.reduce<ReadRow | undefined>(
    (a, r) => (a === undefined || r.p50Ms! > a.p50Ms! ? r : a),
    undefined,
  );
  return {
    getP50Ms: rows.find((r) => r.kind === 'get')?.p50Ms ?? null,
    statsP50Ms: rows.find((r) => r.kind === 'stats')?.p50Ms ?? null,
    slowestListP50Ms: slowest?.p50Ms ?? null,
    slowestList: slowest?.what ?? null,
    listRowsMissing: lists.length - measured.length,
  };
}
