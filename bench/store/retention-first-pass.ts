/**
 * What the retention sweeper's first pass costs on a database that already holds history
 * (task-store-service/src/store/retention.ts): the pass that finds no cursor for a type and must
 * decide where the type's sweep starts, against the passes after it. The database is filled as
 * e2e-stored fills it (lib/history.ts: finished tasks of the four built-in types, created over the
 * last 24 hours), with the store's indexes, on the MongoDB-wire server dev-mongo provisions.
 * Nothing is old enough to remove under the default retention (7 days): the cost is the looking.
 * Then the same database as an upgraded one (no finishedHour marker, no cursors): what a start-up's
 * check for a new database costs, and the pass that reads every task once for the finishedHour
 * backfill (here every task already has one, so it writes nothing). Wall time per pass and the
 * wire server's CPU; the table goes to stdout.
 *
 *   npx tsx --conditions=source bench/store/retention-first-pass.ts [--tasks=30000] [--passes=3]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { prepareDatabase, provisionMongo } from '@tasks/dev-mongo';
import {
  EQUALITY_FILTERED_FIELDS,
  ensureIndexes,
  FINISHED_HOUR_MARKER,
  markNewDatabase,
  openCollections,
  RetentionSweeper,
} from '@tasks/task-store-service';
import { BUILTIN_TYPES, finishedTaskDoc, writeHistory } from '../lib/history.js';
import { round, processCpuMs } from '../lib/measure.js';
import { table } from '../lib/markdown.js';
import { findChildServerPid } from './meters.js';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '30000' }, passes: { type: 'string', default: '3' } },
});
const TASKS = Number(values.tasks);
const PASSES = Number(values.passes);
const say = (line: string) => process.stderr.write(`[retention-first-pass] ${line}\n`);

const mongo = await provisionMongo({ log: (l) => say(`dev-mongo: ${l}`) });
const dbName = `retention_first_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
await prepareDatabase(mongo, dbName, EQUALITY_FILTERED_FIELDS);
const client = new MongoClient(mongo.url);
const serverPid = findChildServerPid();

try {
  const db = client.db(dbName);
  const collections = openCollections(db);
  await ensureIndexes(collections, db);
  // What the store does at start-up on a database without tasks.
  await markNewDatabase(collections);
  const endMs = Date.now() - 60_000;
  const written = await writeHistory(db, 0, TASKS, (i) =>
    finishedTaskDoc(i, TASKS, { types: BUILTIN_TYPES, endMs, spanMs: 24 * 3600_000 }),
  );
  say(`${TASKS} finished tasks written in ${written.seconds} s`);
  // The types as executors register them: the sweeper visits the registered types.
  for (const { type } of BUILTIN_TYPES)
    await db.collection<{ _id: string }>('task_types').insertOne({ _id: type });

  const rows: string[][] = [];
  /** One timed step: its wall time and the wire server's CPU, as a row. */
  const timed = async (name: string, step: () => Promise<unknown>) => {
    const cpu0 = processCpuMs(serverPid);
    const t0 = performance.now();
    await step();
    const wall = performance.now() - t0;
    const cpu1 = processCpuMs(serverPid);
    const cpu = cpu0 !== null && cpu1 !== null ? String(round(cpu1 - cpu0)) : '–';
    say(`${name}: ${round(wall)} ms, wire server ${cpu} ms CPU`);
    rows.push([name, String(round(wall)), cpu]);
  };
  const pass = (sweeper: RetentionSweeper) => async () => {
    const r = await sweeper.sweep();
    const removed = Object.values(r.removed).reduce((a, b) => a + b, 0);
    if (removed !== 0) throw new Error(`a pass removed ${removed} tasks, none was due`);
  };
  const options = { page: 500, flushCounts: async () => {} };
  const sweeper = new RetentionSweeper(collections, options);
  for (let i = 0; i < PASSES; i++)
    await timed(i === 0 ? 'first pass (no cursors yet)' : `pass ${i + 1}`, pass(sweeper));

  // As a database written by a version before the marker: none, and no cursors.
  await db.collection('retention_cursors').deleteMany({});
  await timed('upgraded: start-up check for a new database', () => markNewDatabase(collections));
  const upgraded = new RetentionSweeper(collections, options);
  await timed('upgraded: first pass (finishedHour backfill read)', pass(upgraded));
  if (!(await db.collection('retention_cursors').findOne({ _id: FINISHED_HOUR_MARKER as never })))
    throw new Error('the backfill pass left no marker');
  await timed('upgraded: pass 2', pass(upgraded));
  process.stdout.write(
    `${TASKS.toLocaleString('en')} finished tasks of ${BUILTIN_TYPES.length} types stored, none due\n\n` +
      table(['pass', 'wall ms', 'wire server CPU ms'], rows, 'lrr') +
      '\n',
  );
} finally {
  await client.db(dbName).dropDatabase();
  await client.close();
  await mongo.stop();
}
