/**
 * The MongoDB-wire server alone, through the official driver: per task one insertOne of a task
 * document and two conditional updateOne (queued → running, running → succeeded, each filtered
 * on _id and the expected status, as the store's compare-and-set writes are), C tasks at a time.
 * Each run gets a fresh collection indexed as the store's `tasks` is on that server (ensureIndexes):
 * TASK_INDEXES on MongoDB; on FerretDB on PostgreSQL none of those (its SQL cannot use them) but
 * dev-mongo's GIN indexes on EQUALITY_FILTERED_FIELDS.tasks. The database is dropped at the end.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { round } from '../../lib/measure.js';
import { prepareDatabase } from '@tasks/dev-mongo';
import { EQUALITY_FILTERED_FIELDS, TASK_INDEXES } from '@tasks/task-store-service';
import { queuedDoc, type BenchTaskDoc } from '../../lib/task-doc.js';
import { meter, type Stage, type StageSession } from './stage.js';

const CONCURRENCY = 16;

export function mongoStage(server: { url: string; postgresqlUrl?: string }, serverPids: number[]): Stage {
  return {
    name: 'mongodb driver: insert + 2 conditional updates',
    op: 'task: insertOne + updateOne({_id, status: queued}) + updateOne({_id, status: running})',
    async setup(): Promise<StageSession> {
      const client = new MongoClient(server.url, { maxPoolSize: 20 });
      await client.connect();
      const db = client.db(`bench_raw_${randomUUID().replaceAll('-', '').slice(0, 16)}`);
      const info = await db.command({ buildInfo: 1 });
      const ferretDb = typeof info.ferretdbVersion === 'string';
      let runNo = 0;
      return {
        serverPids,
        async run(ms) {
          const tasks = db.collection<BenchTaskDoc>(`tasks_${++runNo}`);
          if (!ferretDb) await tasks.createIndexes(TASK_INDEXES);
          else
            await prepareDatabase(server, db.databaseName, {
              [tasks.collectionName]: EQUALITY_FILTERED_FIELDS.tasks,
            });
          const cpu = meter(serverPids);
          const t0 = performance.now();
          const end = t0 + ms;
          let done = 0;
          let firstError: string | undefined;
          const latencies: number[] = [];
          const worker = async () => {
            while (performance.now() < end) {
              const s = performance.now();
              const now = new Date();
              const doc = queuedDoc('noop', now);
              try {
                await tasks.insertOne(doc);
                const claimed = await tasks.updateOne(
                  { _id: doc._id, status: 'queued' },
                  {
                    $set: { status: 'running', startedAt: new Date(), updatedAt: new Date() },
                    $inc: { version: 1 },
                  },
                );
                const finished = await tasks.updateOne(
                  { _id: doc._id, status: 'running' },
                  {
                    $set: { status: 'succeeded', finishedAt: new Date(), resultJson: '{}' },
                    $inc: { version: 1 },
                  },
                );
                if (claimed.modifiedCount !== 1 || finished.modifiedCount !== 1)
                  throw new Error('update matched nothing');
                done++;
                latencies.push(performance.now() - s);
              } catch (err) {
                firstError ??= err instanceof Error ? err.message : String(err);
              }
            }
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, worker));
          const seconds = (performance.now() - t0) / 1000;
          latencies.sort((a, b) => a - b);
          const pct = (p: number) =>
            round(latencies[Math.max(0, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN);
          return {
            ops: done,
            seconds: round(seconds, 2),
            perSec: round(done / seconds),
            latencyMs: { p50: pct(50), p99: pct(99) },
            cpu: cpu(),
            extra: {
              concurrency: CONCURRENCY,
              collection: tasks.collectionName,
              ...(firstError && { firstError }),
            },
          };
        },
        async teardown() {
          await db.dropDatabase().catch(() => undefined);
          await client.close();
        },
      };
    },
  };
}
