/**
 * The PostgreSQL indexes FerretDB 1.24's pushed-down filters can use (docs/mongodb-provisioning.md).
 *
 * FerretDB turns a top-level equality `{field: value}` into `_jsonb->'field' @> value` and keeps
 * everything else in Go; the btree indexes it makes for `createIndexes` cannot serve `@>`, so
 * every lookup scans the table. A GIN index on `(_jsonb->'field') jsonb_path_ops` can, once the
 * plan is made for the actual key (plan_cache_mode=force_custom_plan, see ferretdb.ts).
 *
 * The indexes are made with `fastupdate = off`. With PostgreSQL's default (on), new entries go
 * to a pending list that every lookup scans linearly until a vacuum merges it; under the store's
 * churn (every task written three to five times) that list held 73,000 entries, and a lookup by
 * `_id` took 5 ms instead of 0.07 ms. Without it, each write updates the index tree at once.
 *
 * This couples to FerretDB 1.24's layout: one schema per MongoDB database, a
 * `_ferretdb_database_metadata` table in it mapping collection names (`_id`) to table names
 * (`table`), documents in a `_jsonb` column. A layout that differs throws here, and
 * dev-mongo/test/ferretdb-tuning.test.ts fails.
 */
import { createHash } from 'node:crypto';
import { MongoClient } from 'mongodb';
import pg from 'pg';

/** Per collection, the fields the application filters on by equality (`_id` is always indexed). */
export type EqualityFields = Readonly<Record<string, readonly string[]>>;

export interface TuneFerretDbOptions {
  /** The FerretDB server (MongoDB wire), to create the collections that do not exist yet. */
  mongoUrl: string;
  /** The PostgreSQL database FerretDB keeps its data in. */
  postgresqlUrl: string;
  /** The MongoDB database, which is FerretDB's schema. */
  database: string;
  fields: EqualityFields;
}

/** Creates what is missing; cheap to repeat (IF NOT EXISTS). Returns the index names, created or kept. */
export async function tuneFerretDb(opts: TuneFerretDbOptions): Promise<string[]> {
  await ensureCollections(opts.mongoUrl, opts.database, Object.keys(opts.fields));
  const client = new pg.Client({ connectionString: opts.postgresqlUrl });
  await client.connect();
  try {
    const tables = await ferretDbTables(client, opts.database);
    const names: string[] = [];
    for (const [collection, fields] of Object.entries(opts.fields)) {
      const table = tables.get(collection);
      if (table === undefined) {
        throw new Error(`FerretDB has no table for ${opts.database}.${collection} in its metadata`);
      }
      for (const field of new Set(['_id', ...fields])) {
        const name = ginIndexName(table, field);
        await client.query(
          `CREATE INDEX IF NOT EXISTS ${ident(name)} ON ${ident(opts.database)}.${ident(table)} ` +
            `USING gin ((_jsonb -> ${literal(field)}) jsonb_path_ops) WITH (fastupdate = off)`,
        );
        // Indexes made before fastupdate was turned off: turn it off, and merge what is pending.
        await client.query(`ALTER INDEX ${ident(opts.database)}.${ident(name)} SET (fastupdate = off)`);
        await client.query(
          `SELECT gin_clean_pending_list(${literal(`${ident(opts.database)}.${ident(name)}`)}::regclass)`,
        );
        names.push(name);
      }
    }
    return names;
  } finally {
    await client.end();
  }
}

/** FerretDB's table for each collection of one database, read from its metadata table. */
export async function ferretDbTables(client: pg.Client, database: string): Promise<Map<string, string>> {
  const r = await client.query<{ collection: unknown; table: unknown }>(
    `SELECT _jsonb ->> '_id' AS collection, _jsonb ->> 'table' AS table ` +
      `FROM ${ident(database)}._ferretdb_database_metadata`,
  );
  const tables = new Map<string, string>();
  for (const row of r.rows) {
    if (typeof row.collection !== 'string' || typeof row.table !== 'string') {
      throw new Error(`FerretDB's metadata in schema ${database} is not laid out as in FerretDB 1.24`);
    }
    tables.set(row.collection, row.table);
  }
  return tables;
}

/** Within PostgreSQL's 63-byte limit whatever the table's name; stable, so IF NOT EXISTS finds it. */
function ginIndexName(table: string, field: string): string {
  const hash = createHash('sha256').update(`${table}\0${field}`).digest('hex').slice(0, 10);
  return `${table.slice(0, 32)}_${field.replace(/\W/g, '').slice(0, 16)}_${hash}_gin`;
}

async function ensureCollections(mongoUrl: string, database: string, names: string[]): Promise<void> {
  const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5_000 });
  try {
    const db = mongo.db(database);
    const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
    for (const name of names) {
      if (existing.has(name)) continue;
      await db.createCollection(name).catch((err: unknown) => {
        // Another caller created it meanwhile (NamespaceExists).
        if ((err as { code?: unknown }).code !== 48) throw err;
      });
    }
  } finally {
    await mongo.close();
  }
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
