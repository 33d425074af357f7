/**
 * What one pass of the fence sweep costs (task-store-service/src/store/fence-sweep.ts) with a
 * given number of fences stored: the full sweep by `at` (every pass before `sweepMinute`; now the
 * first pass of a process and then one an hour) against a pass over the minute window, on the
 * MongoDB-wire server dev-mongo provisions, with its indexes. The fences are spread over the last
 * ten minutes (the retention), as under steady load, so neither pass finds anything due: the cost
 * is the looking. Wall time per pass and the wire server's CPU; the table goes to stdout.
 *
 *   npx tsx --conditions=source bench/store/fence-sweep.ts [--fences=50000] [--passes=3]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { prepareDatabase, provisionMongo } from '@tasks/dev-mongo';
import { EQUALITY_FILTERED_FIELDS, FenceSweeper, fenceTimes } from '@tasks/task-store-service';
import { round, processCpuMs, spread } from '../lib/measure.js';
import { table } from '../lib/markdown.js';
import { findChildServerPid } from './meters.js';

const { values } = parseArgs({
  options: { fences: { type: 'string', default: '50000' }, passes: { type: 'string', default: '3' } },
});
const FENCES = Number(values.fences);
const PASSES = Number(values.passes);
const RETENTION_MS = 10 * 60_000;
const say = (line: string) => process.stderr.write(`[fence-sweep] ${line}\n`);

const mongo = await provisionMongo({ log: (l) => say(`dev-mongo: ${l}`) });
const db = `fence_sweep_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
await prepareDatabase(mongo, db, EQUALITY_FILTERED_FIELDS);
const client = new MongoClient(mongo.url);
const fences = client.db(db).collection<{
  _id: string;
  taskId: string;
  version: number;
  set: object;
  at: Date;
  sweepMinute?: number;
}>('task_fences');
const serverPid = findChildServerPid();

try {
  const now = Date.now();
  for (let start = 0; start < FENCES; start += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, FENCES - start) }, (_, i) => {
      const taskId = randomUUID();
      // What a claim's fence holds, taken at a moment of the last ten minutes.
      const at = new Date(now - ((start + i) / FENCES) * (RETENTION_MS - 30_000));
      return {
        _id: `${taskId}:1`,
        taskId,
        version: 1,
        set: { status: 'running', version: 2 },
        ...fenceTimes(at),
      };
    });
    await fences.insertMany(batch, { ordered: false });
    if ((start / 1_000) % 10 === 9) say(`${start + batch.length} fences written`);
  }
  // The store's indexes (ensureIndexes) on MongoDB; FerretDB's SQL uses prepareDatabase's.
  await fences.createIndexes([
    { key: { at: 1 }, name: 'by_age' },
    { key: { sweepMinute: 1 }, name: 'by_minute' },
  ]);
  /** Median wall time and wire-server CPU of `pass`, each time on a sweeper `prepare` set up untimed. */
  const measure = async (kind: string, prepare: (s: FenceSweeper) => Promise<unknown>) => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < PASSES; i++) {
      const sweeper = new FenceSweeper(fences, RETENTION_MS);
      await prepare(sweeper);
      const cpu0 = processCpuMs(serverPid);
      const t0 = performance.now();
      const removed = await sweeper.sweep(Date.now());
      wall.push(performance.now() - t0);
      const cpu1 = processCpuMs(serverPid);
      if (cpu0 !== null && cpu1 !== null) cpu.push(cpu1 - cpu0);
      if (removed !== 0) throw new Error(`a ${kind} pass removed ${removed} fences, none was due`);
    }
    say(`${kind}: ${wall.map((w) => round(w)).join(', ')} ms`);
    return [kind, String(round(spread(wall).median)), cpu.length ? String(round(spread(cpu).median)) : '–'];
  };
  // A later pass deletes the minutes that became due since the pass before: one when passes run
  // every minute, at most 15 when passes were missed. The full pass before it is not timed.
  const fullPassAgo = (minutes: number) => (s: FenceSweeper) => s.sweep(Date.now() - minutes * 60_000);
  const rows = [
    await measure('full sweep by `at` (first pass, then hourly)', () => Promise.resolve()),
    await measure('one minute due (passes every minute)', fullPassAgo(1)),
    await measure('15 minutes due (passes missed)', fullPassAgo(15)),
  ];
  const stored = await fences.estimatedDocumentCount();
  process.stdout.write(
    `${stored} fences stored, median of ${PASSES} passes, nothing due\n\n` +
      table(['pass', 'wall ms', 'wire server CPU ms'], rows, 'lrr') +
      '\n',
  );
} finally {
  await client.db(db).dropDatabase();
  await client.close();
  await mongo.stop();
}
