/**
 * FerretDB 1.24 on PostgreSQL, tuned by prepareDatabase: the SQL FerretDB pushes down for an
 * equality filter (`_jsonb->$1 @> $2`, one prepared statement for every field) is planned onto
 * the GIN indexes at 20,000 documents. This is also the check that FerretDB's table layout is
 * still the one ferretdb-tuning.ts reads (docs/mongodb-provisioning.md).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { ferretDbPostgresqlUrl, ferretDbTables, prepareDatabase } from '../src/index.js';

const DOCUMENTS = 20_000;
const TYPES = 50;
const FIELDS = { tasks: ['status', 'type', 'labels', 'hourLabels'], task_fences: [] };

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe('FerretDB tuning (PostgreSQL indexes for pushed-down filters)', function () {
  this.timeout(180_000);
  // Read once the root hooks have provisioned the server.
  let postgresqlUrl: string | undefined;
  let mongoUrl: string;
  const database = `test_tuning_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let mongo: MongoClient;
  let sql: pg.Client;
  let table: string;
  let someId: string;

  before(async function () {
    postgresqlUrl = process.env.DEV_MONGO_POSTGRESQL_URL;
    mongoUrl = process.env.MONGO_URL!;
    // Only FerretDB on PostgreSQL has this layout; MongoDB and SQLite need no tuning.
    if (postgresqlUrl === undefined) this.skip();
    mongo = new MongoClient(mongoUrl);
    const tasks = mongo
      .db(database)
      .collection<{ _id: string; status: string; type: string; labels?: string[]; hourLabels?: string[] }>(
        'tasks',
      );
    for (let start = 0; start < DOCUMENTS; start += 1_000) {
      const batch = Array.from({ length: 1_000 }, (_, i) => ({
        _id: randomUUID(),
        // As in a store with history: most tasks finished, a few queued or running.
        status: (start + i) % 100 === 0 ? 'queued' : (start + i) % 100 === 1 ? 'running' : 'succeeded',
        type: `type-${(start + i) % TYPES}`,
        // Tags and metadata as the store keeps them: one array of flat labels, on some tasks only.
        ...((start + i) % 4 === 0 && {
          labels: [`t:batch-${(start + i) % 400}`, 't:nightly', `m:customer=c-${(start + i) % 1000}`],
          // The same scoped to one of 20 hours, as list pages read them.
          hourLabels: [`${(start + i) % 20}|t:nightly`],
        }),
        payloadJson: '{"n":1}',
      }));
      someId = batch[500]!._id;
      await tasks.insertMany(batch);
    }
    await prepareDatabase({ url: mongoUrl, postgresqlUrl }, database, FIELDS);
    sql = new pg.Client({ connectionString: postgresqlUrl });
    await sql.connect();
    table = (await ferretDbTables(sql, database)).get('tasks')!;
    await sql.query(`ANALYZE "${database}"."${table}"`);
    // FerretDB's statement for every equality filter on this table, whatever the field.
    await sql.query(
      `PREPARE lookup(text, jsonb) AS SELECT _jsonb FROM "${database}"."${table}" WHERE _jsonb -> $1 @> $2`,
    );
  });

  after(async () => {
    await sql?.end();
    await mongo?.db(database).dropDatabase();
    await mongo?.close();
  });

  async function plan(field: string, value: string, mode: string): Promise<PlanNode[]> {
    await sql.query(`SET plan_cache_mode = ${mode}`);
    const r = await sql.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE lookup(${pg.escapeLiteral(field)}, ${pg.escapeLiteral(JSON.stringify(value))})`,
    );
    return nodes(r.rows[0]!['QUERY PLAN'][0].Plan);
  }

  async function indexesUsed(field: string, value: string): Promise<string[]> {
    // Ten runs, more than PostgreSQL's five before it may switch to a generic plan.
    let used: string[] = [];
    for (let i = 0; i < 10; i++) {
      used = (await plan(field, value, 'force_custom_plan')).flatMap((n) => n['Index Name'] ?? []);
    }
    return used.filter((name) => name.endsWith('_gin')); // FerretDB's own btree indexes cannot serve @>
  }

  it('when the collections are prepared, then FerretDB metadata names a table for each', async () => {
    const tables = await ferretDbTables(sql, database);
    expect([...tables.keys()]).to.include.members(Object.keys(FIELDS));
  });

  it('when a task is looked up by _id at 20,000 documents, then an index serves it', async () => {
    expect(await indexesUsed('_id', someId)).to.have.length.greaterThan(0);
  });

  it('when tasks are looked up by a rare status, then an index serves it', async () => {
    expect(await indexesUsed('status', 'queued')).to.have.length.greaterThan(0);
  });

  it('when tasks are looked up by type, then an index serves it', async () => {
    expect(await indexesUsed('type', 'type-7')).to.have.length.greaterThan(0);
  });

  it('when tasks are looked up by one label of an array field (a tag or a metadata entry), then an index serves it', async () => {
    expect(await indexesUsed('labels', 't:batch-8')).to.have.length.greaterThan(0);
    expect(await indexesUsed('labels', 'm:customer=c-8')).to.have.length.greaterThan(0);
    expect(await indexesUsed('hourLabels', '4|t:nightly')).to.have.length.greaterThan(0);
  });

  it('when a label equality is sent through FerretDB, then it matches arrays holding the label and nothing else', async () => {
    const tasks = mongo.db(database).collection<{ _id: string; labels?: string[] }>('tasks');
    const found = await tasks.find({ labels: 'm:customer=c-8' }, { projection: { labels: 1 } }).toArray();
    expect(found).to.have.length(20); // i = 8, 1008, … 19008: every one divisible by 4, so labelled
    for (const d of found) expect(d.labels).to.include('m:customer=c-8');
  });

  it('when the plan is generic (plan_cache_mode not forced), then the same _id lookup scans the table', async () => {
    // Why ferretDbPostgresqlUrl forces custom plans: the field is a parameter of the statement.
    const generic = await plan('_id', someId, 'force_generic_plan');
    expect(generic.map((n) => n['Node Type'])).to.include('Seq Scan');
  });

  it('when prepared, then every GIN index writes through (fastupdate off), even one made before with the default', async () => {
    // As an index made by an earlier version: fastupdate back on, an entry waiting in its pending list.
    const idIndex = (
      await sql.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%\\_id\\_%\\_gin'`,
        [database],
      )
    ).rows[0]!.indexname;
    await sql.query(`ALTER INDEX "${database}"."${idIndex}" SET (fastupdate = on)`);
    await mongo.db(database).collection<{ _id: string }>('tasks').insertOne({ _id: randomUUID() });
    await prepareDatabase({ url: mongoUrl, postgresqlUrl: postgresqlUrl! }, database, FIELDS);
    const gin = await sql.query<{ indexname: string; options: string[] | null }>(
      `SELECT c.relname AS indexname, c.reloptions AS options FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam
        WHERE n.nspname = $1 AND a.amname = 'gin'`,
      [database],
    );
    expect(gin.rows.length).to.be.greaterThan(3);
    for (const row of gin.rows) expect(row.options, row.indexname).to.include('fastupdate=off');
  });

  it('when prepared a second time, then nothing changes and no error is raised', async () => {
    const before = await sql.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1`, [database]);
    await prepareDatabase({ url: mongoUrl, postgresqlUrl: postgresqlUrl! }, database, FIELDS);
    const after = await sql.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1`, [database]);
    expect(after.rows).to.deep.equal(before.rows);
  });
});

describe('ferretDbPostgresqlUrl', () => {
  it('when given the plain URL, then it asks PostgreSQL for custom plans', () => {
    const url = new URL(ferretDbPostgresqlUrl('postgres://postgres@127.0.0.1:5432/postgres'));
    expect(url.searchParams.get('plan_cache_mode')).to.equal('force_custom_plan');
  });

  it('when the URL sets plan_cache_mode itself, then that choice stands', () => {
    const url = new URL(ferretDbPostgresqlUrl('postgres://h/db?plan_cache_mode=auto&sslmode=disable'));
    expect(url.searchParams.get('plan_cache_mode')).to.equal('auto');
    expect(url.searchParams.get('sslmode')).to.equal('disable');
  });
});
