/**
 * What a person at the dashboard or a script waits for with many tasks stored, through the
 * gateway: every list filter shape (none, status, type, status and type) on its first page and
 * five pages deep (following nextCursor), GET /v1/tasks/:id of tasks those pages returned, and
 * GET /v1/stats. One untimed call of each first, then `samples` timed ones, one after the other
 * (no concurrent load): p50 and max per row. A row whose first call fails (e.g. the gateway's 503
 * once the store has not answered within STORE_TIMEOUT_MS) is counted as failed without further
 * calls, and rows left when `deadline` passes are marked not measured, so that a slow store costs
 * seconds, not minutes. Used by the e2e-stored scenario and bench/targets.ts.
 */
import { percentile, round } from './measure.js';

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
  /** Epoch ms after which no further row is started. */
  deadline?: number;
  /** Ids of stored tasks for the gets (else ids the list pages returned). */
  ids?: string[];
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
    return {
      ms: performance.now() - t0,
      body: null,
      error: err instanceof Error ? err.message : String(err),
    };
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
    if (o.deadline !== undefined && Date.now() > o.deadline) return undefined;
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
  const late = () => o.deadline !== undefined && Date.now() > o.deadline;
  const notMeasured = (what: string, kind: ReadRow['kind'], why: string): ReadRow => ({
    what,
    kind,
    samples: 0,
    p50Ms: null,
    maxMs: null,
    failures: 0,
    firstError: why,
  });
  /** A warm-up call, then the samples, unless the warm-up failed or the deadline passed. */
  const sample = async (what: string, kind: ReadRow['kind'], url: () => string): Promise<ReadRow> => {
    if (late()) return notMeasured(what, kind, 'not measured: the time budget was spent');
    const warm = await timedGet(url(), o);
    for (const t of (warm.body as { items?: { id: string }[] } | null)?.items ?? []) ids.add(t.id);
    if (warm.error !== undefined) return row(what, kind, [warm]);
    const answers: Answer[] = [];
    for (let i = 0; i < o.samples && !late(); i++) answers.push(await timedGet(url(), o));
    const r = row(what, kind, answers);
    o.log?.(`${what}: p50 ${r.p50Ms ?? '–'} ms (${r.samples} samples, ${r.failures} failed)`);
    return r;
  };
  // Cheap reads first, so that slow list pages cannot take their time; then page 1 of every
  // shape, then the deep pages.
  const pool = o.ids ?? [];
  let g = 0;
  const get =
    pool.length > 0
      ? await sample('get', 'get', () => `${o.gatewayUrl}/v1/tasks/${pool[g++ % pool.length]!}`)
      : undefined;
  const stats = await sample('stats', 'stats', () => `${o.gatewayUrl}/v1/stats`);
  const filters = shapes(o.type).map((f) => ({
    filter: f,
    name: new URLSearchParams(f).toString() || 'no filter',
  }));
  const page1: ReadRow[] = [];
  for (const { filter, name } of filters) {
    const q = new URLSearchParams({ ...filter, limit: String(PAGE_SIZE) });
    page1.push(
      await sample(`list ${name}, page 1`, 'list', () => `${o.gatewayUrl}/v1/tasks?${q.toString()}`),
    );
  }
  // Without ids given, the gets take ids the list pages returned.
  const listed = [...ids];
  let h = 0;
  const gets =
    get ??
    (listed.length > 0
      ? await sample('get', 'get', () => `${o.gatewayUrl}/v1/tasks/${listed[h++ % listed.length]!}`)
      : notMeasured('get', 'get', 'not measured: no task id (every list page failed)'));
  const deep: ReadRow[] = [];
  for (const [i, { filter, name }] of filters.entries()) {
    const what = `list ${name}, page ${DEPTH}`;
    if (page1[i]!.p50Ms === null) {
      const failed = page1[i]!.failures > 0;
      deep.push(
        notMeasured(
          what,
          'list',
          failed ? 'not measured: page 1 failed' : 'not measured: the time budget was spent',
        ),
      );
      continue;
    }
    const cursor = late() ? undefined : await cursorTo(filter, DEPTH, o, ids);
    if (typeof cursor !== 'string') {
      deep.push(
        cursor === null
          ? notMeasured(what, 'list', `not measured: fewer than ${DEPTH} pages`)
          : {
              ...notMeasured(
                what,
                'list',
                late() ? 'not measured: the time budget was spent' : 'the pages before it failed',
              ),
              failures: late() ? 0 : 1,
            },
      );
      continue;
    }
    const q = new URLSearchParams({ ...filter, limit: String(PAGE_SIZE), cursor });
    deep.push(await sample(what, 'list', () => `${o.gatewayUrl}/v1/tasks?${q.toString()}`));
  }
  rows.push(...page1, ...deep, gets, stats);
  return rows;
}

/** The figures the targets are about: get p50, stats p50, and the slowest list page's p50. */
export function readFigures(rows: ReadRow[]): {
  getP50Ms: number | null;
  statsP50Ms: number | null;
  /** The gets or the stats calls failed (each a miss of its target). */
  getFailed: boolean;
  statsFailed: boolean;
  slowestListP50Ms: number | null;
  slowestList: string | null;
  /** List rows whose calls failed (each one misses the target). */
  listFailed: string[];
  /** List rows not measured for want of time (the target cannot be judged). */
  listNotMeasured: string[];
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
    getFailed: rows.some((r) => r.kind === 'get' && r.failures > 0),
    statsFailed: rows.some((r) => r.kind === 'stats' && r.failures > 0),
    slowestListP50Ms: slowest?.p50Ms ?? null,
    slowestList: slowest?.what ?? null,
    listFailed: lists.filter((r) => r.failures > 0).map((r) => r.what),
    listNotMeasured: lists
      .filter((r) => r.p50Ms === null && r.failures === 0 && r.firstError?.includes('time budget'))
      .map((r) => r.what),
  };
}
