/**
 * (6) List scaling: p50 of one filtered page, GET /v1/tasks?status=succeeded&type=…&limit=50
 * through the gateway, with 10,000 tasks stored, then with more (×2.5 per step) while the time
 * budget allows filling and measuring the next size, and until a size where no page succeeds
 * (the gateway answers 503 once the store has not answered within its STORE_TIMEOUT_MS);
 * 1,000,000 only on a real mongod. Tasks are written straight into the store's collection with
 * the driver, in the store's document shape (lib/task-doc.ts), into the database the store of a
 * fresh system uses.
 */
import { MongoClient } from 'mongodb';
import { round, spread, type Spread } from '../lib/measure.js';
import { writeHistory } from '../lib/history.js';
import { endedDoc, queuedDoc, type BenchTaskDoc } from '../lib/task-doc.js';
import { omit } from '../lib/omit.js';
import { service, systemFor } from '../lib/system.js';
import type { RunContext, Scenario, ScenarioOutput } from '../lib/scenario.js';

const TYPES = ['bench.list.t0', 'bench.list.t1', 'bench.list.t2', 'bench.list.t3'];
const QUERY = { status: 'succeeded', type: 'bench.list.t1', limit: '50' };
/**
 * How long the gateway waits for the store, retries included, before it answers 503
 * (STORE_TIMEOUT_MS; 5 s by default since b8e5969, 10 s per attempt with 2 retries before): a
 * slower page fails. Read from the gateway's environment when set there.
 */
const DEFAULT_GATEWAY_STORE_TIMEOUT_MS = 5_000;
/** Failed pages after which a size is given up. */
const MAX_FAILURES = 2;

/** Task i of the fill: 60 % succeeded, 20 % failed, 10 % cancelled, 10 % queued; types rotate. */
function doc(i: number, base: number): BenchTaskDoc {
  const createdAt = new Date(base + i * 10);
  const type = TYPES[i % TYPES.length]!;
  const k = Math.floor(i / TYPES.length) % 10;
  if (k === 9) return queuedDoc(type, createdAt, { n: i });
  return endedDoc(type, createdAt, k < 6 ? 'succeeded' : k < 8 ? 'failed' : 'cancelled');
}

interface SizeResult {
  stored: number;
  fillSeconds: number;
  fillPerSec: number;
  samples: number;
  samplesMs: number[];
  p50Ms: number;
  range: Spread;
  itemsReturned: number;
  /** Pages that failed (the gateway answers 503 when its store call times out), and after how long. */
  failures: { afterMs: number; error: string }[];
  note?: string;
}

export const listScaling: Scenario = {
  name: 'list-scaling',
  title: 'List scaling: one filtered page of GET /v1/tasks against the tasks stored',
  budgetSeconds: { full: 80, quick: 12 },
  async run(ctx: RunContext): Promise<ScenarioOutput> {
    const { system, startSeconds, stop } = await systemFor(ctx, { executors: 0 });
    const gatewayTimeoutMs =
      Number(service('gateway-service/src/main.ts').env.STORE_TIMEOUT_MS) || DEFAULT_GATEWAY_STORE_TIMEOUT_MS;
    // the store's own database (startSystem drops it at stop)
    const dbName = service('task-store-service/src/main.ts').env.MONGO_DB!;
    const client = new MongoClient(ctx.mongo.url, { maxPoolSize: 4 });
    await client.connect();
    const unregisterClient = ctx.cleanup.add(() => client.close(true));
    const db = client.db(dbName);
    const url = `${system.gatewayUrl}/v1/tasks?${new URLSearchParams(QUERY).toString()}`;
    const sizes = [
      10_000,
      25_000,
      50_000,
      100_000,
      250_000,
      500_000,
      ...(ctx.mongo.realMongod ? [1_000_000] : []),
    ];
    const results: SizeResult[] = [];
    let stored = 0;
    let fillPerSec = 3_000;
    let stopReason: string | undefined;
    const base = Date.now() - 30 * 24 * 3600_000;
    const fill = async (target: number) => {
      const written = await writeHistory(db, stored, target, (i) => doc(i, base));
      stored = target;
      fillPerSec = written.tasksPerSec;
      return written.seconds;
    };
    const page = async () => {
      const t0 = performance.now();
      const res = await fetch(url, {
        signal: AbortSignal.timeout(Math.max(5_000, ctx.budget.remainingMs())),
      });
      const body = (await res.json()) as { items?: { id: string; status: string; type: string }[] };
      const ms = performance.now() - t0;
      if (res.status !== 200 || !body.items)
        throw new Error(`list answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      if (body.items.some((t) => t.status !== 'succeeded' || t.type !== QUERY.type))
        throw new Error('list returned tasks outside the filter');
      return { ms, items: body.items };
    };
    try {
      for (const size of sizes) {
        const lastMs = results.at(-1)?.p50Ms;
        const samples = size === 10_000 ? (ctx.quick ? 3 : 5) : 3;
        if (lastMs !== undefined) {
          // linear in the tasks stored: fill, a warm-up page and the samples, and ~5 s to stop
          const needMs =
            ((size - stored) / fillPerSec) * 1000 + (samples + 1) * lastMs * (size / stored) * 1.2 + 5_000;
          if (needMs > ctx.budget.remainingMs()) {
            stopReason = `${size.toLocaleString('en')} tasks not measured: filling from ${stored.toLocaleString('en')} at ${Math.round(fillPerSec)} tasks/s and ${samples + 1} pages at about ${Math.round((lastMs * size) / stored / 1000)} s each would take ~${Math.round(needMs / 1000)} s, ${Math.round(ctx.budget.remainingMs() / 1000)} s of the budget were left`;
            ctx.log(stopReason);
            break;
          }
        }
        const fillSeconds = await fill(size);
        ctx.log(
          `${size.toLocaleString('en')} tasks stored (${round(fillSeconds)} s, ${Math.round(fillPerSec)} tasks/s)`,
        );
        // The first page is the warm-up. A page fails when the gateway's store call times out
        // (after its retries: 503); failures are counted, and sampling goes on up to a bound.
        const times: number[] = [];
        const failures: { afterMs: number; error: string }[] = [];
        let warm: { ms: number; items: { id: string }[] } | undefined;
        let note: string | undefined;
        for (let attempt = 0; times.length < samples && failures.length < MAX_FAILURES; attempt++) {
          const longest = Math.max(0, ...times, ...failures.map((f) => f.afterMs));
          if (attempt > 0 && ctx.budget.remainingMs() < longest * 1.2 + 4_000) {
            note = `${times.length} of ${samples} pages: the time budget was spent`;
            break;
          }
          const t0 = performance.now();
          const p = await page().catch((err: unknown) => {
            failures.push({
              afterMs: round(performance.now() - t0),
              error: err instanceof Error ? err.message : String(err),
            });
            ctx.log(
              `${size.toLocaleString('en')} tasks: a page failed after ${round((performance.now() - t0) / 1000)} s`,
            );
            return undefined;
          });
          if (!p) continue;
          if (warm === undefined) warm = p;
          else times.push(p.ms);
        }
        if (warm !== undefined && results.length === 0) {
          // the store reads the documents we wrote: one of them by id as well
          const one = await fetch(`${system.gatewayUrl}/v1/tasks/${warm.items[0]!.id}`);
          if (one.status !== 200) throw new Error(`GET of an inserted task answered ${one.status}`);
        }
        if (failures.length > 0) {
          note = `${failures.length} page(s) failed, after ${failures.map((f) => `${round(f.afterMs / 1000)} s`).join(', ')}: ${failures[0]!.error.slice(0, 160)}${note ? `; ${note}` : ''}`;
        }
        if (times.length === 0) {
          stopReason = `${size.toLocaleString('en')} tasks: no page measured${note ? ` (${note})` : ''}`;
          ctx.log(stopReason);
          results.push({
            stored: size,
            fillSeconds: round(fillSeconds),
            fillPerSec: Math.round(fillPerSec),
            samples: 0,
            samplesMs: [],
            p50Ms: NaN,
            range: { median: NaN, min: NaN, max: NaN },
            itemsReturned: warm?.items.length ?? 0,
            failures,
            ...(note !== undefined && { note }),
          });
          break;
        }
        const range = spread(times.map((t) => round(t)));
        results.push({
          stored: size,
          fillSeconds: round(fillSeconds),
          fillPerSec: Math.round(fillPerSec),
          samples: times.length,
          samplesMs: times.map((t) => round(t)),
          p50Ms: range.median,
          range,
          itemsReturned: warm?.items.length ?? 0,
          failures,
          ...(note !== undefined && { note }),
        });
        ctx.log(
          `${size.toLocaleString('en')} tasks: page p50 ${range.median} ms (${range.min}–${range.max}, n=${times.length})`,
        );
      }
    } finally {
      await stop();
      unregisterClient();
      await client.close(true);
    }
    const measured = results.filter((r) => r.samples > 0);
    const largest = measured.at(-1);
    return {
      settings: {
        query: `GET /v1/tasks?${new URLSearchParams(QUERY).toString()}`,
        mix: '60 % succeeded, 20 % failed, 10 % cancelled, 10 % queued; 4 types: the filter matches 15 %',
        sizesPlanned: sizes,
        systemStartSeconds: startSeconds,
        gatewayStoreTimeoutMs: gatewayTimeoutMs,
      },
      summary: {
        rows: results.map((r) => omit(r, 'samplesMs')),
        p50At10kMs: measured.find((r) => r.stored === 10_000)?.p50Ms ?? null,
        failedPages: results.reduce((n, r) => n + r.failures.length, 0),
        largestMeasured: largest?.stored ?? null,
        stoppedBecause: stopReason ?? null,
        oneMillion: ctx.mongo.realMongod
          ? largest?.stored === 1_000_000
            ? 'measured'
            : 'attempted on a real mongod, not reached within the budget'
          : `not attempted: MONGO_URL does not point at a real mongod (this run: ${ctx.mongo.server})`,
      },
      details: results,
      notes: [
        "Tasks are inserted with the mongodb driver straight into the store's tasks collection (insertMany, 1,000 per call, 2 in flight), after the store created its indexes; nothing else runs (no executor).",
        'Each size: one warm-up page, then the samples; p50 is the median of the samples, with (min–max). A page that fails (the gateway answers 503 DEPENDENCY_UNAVAILABLE when the store has not answered within STORE_TIMEOUT_MS, retries included) is counted under failures and not in the figures.',
        ctx.mongo.realMongod
          ? 'On a real mongod the list_by_status_type index serves the query: the page time should not grow with the collection.'
          : `On ${ctx.mongo.server} no query uses an index (bench/README.md, "on FerretDB 1.24 no store query uses an index"): a page reads and sorts every matching document, so its time grows with the collection.`,
      ],
    };
  },
};
