/**
 * Databases for tests, reused within one test run. A new database on FerretDB (its collections,
 * the store's indexes and the PostgreSQL indexes prepareDatabase adds) costs about two seconds,
 * and test files start a store for every test; emptying a used one costs a tenth of that. A test
 * takes a database and gives it back emptied: every collection's documents deleted, collections
 * and indexes kept, so the next test starts on what a new database would hold once the store has
 * started. Tests of one mocha process run one at a time; nothing is shared between processes.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { tuneFerretDb, type EqualityFields } from './ferretdb-tuning.js';

export interface TestDatabaseServer {
  url: string;
  /** FerretDB's PostgreSQL database, when FerretDB runs on PostgreSQL (prepareDatabase tunes it). */
  postgresqlUrl?: string;
}

/** Emptied databases by server and fields, ready for the next test. */
const idle = new Map<string, string[]>();
/** Every database handed out in this process, and the pool it goes back to. */
const taken = new Map<string, { server: TestDatabaseServer; key: string }>();

const keyOf = (server: TestDatabaseServer, fields: EqualityFields) =>
  `${server.url} ${JSON.stringify(fields)}`;

/** A database of the test's own: an emptied one from an earlier test, else a new, prepared one. */
export async function takeTestDatabase(server: TestDatabaseServer, fields: EqualityFields): Promise<string> {
  const key = keyOf(server, fields);
  let name = idle.get(key)?.pop();
  if (name === undefined) {
    name = `test_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    // What prepareDatabase does (index.ts imports this module, so not through it).
    if (server.postgresqlUrl !== undefined)
      await tuneFerretDb({
        mongoUrl: server.url,
        postgresqlUrl: server.postgresqlUrl,
        database: name,
        fields,
      });
  }
  taken.set(name, { server, key });
  return name;
}

/**
 * Gives back a database from takeTestDatabase once nothing uses it any more: emptied for the next
 * test, or dropped when it cannot be emptied (the server is gone: a test stopped it).
 */
export async function releaseTestDatabase(name: string): Promise<void> {
  const entry = taken.get(name);
  if (entry === undefined) throw new Error(`${name} is not a database taken by takeTestDatabase`);
  taken.delete(name);
  const client = new MongoClient(entry.server.url, { serverSelectionTimeoutMS: 5_000 });
  try {
    const db = client.db(name);
    const collections = await db.listCollections({}, { nameOnly: true }).toArray();
    await Promise.all(collections.map((c) => db.collection(c.name).deleteMany({})));
    idle.set(entry.key, [...(idle.get(entry.key) ?? []), name]);
  } catch {
    await client
      .db(name)
      .dropDatabase()
      .catch(() => undefined);
  } finally {
    await client.close();
  }
}

/** Drops every database this process has taken or pooled (the run's root hook, at the end). */
export async function dropTestDatabases(): Promise<void> {
  const byUrl = new Map<string, string[]>();
  for (const [name, { server }] of taken) byUrl.set(server.url, [...(byUrl.get(server.url) ?? []), name]);
  for (const [key, names] of idle) {
    const url = key.slice(0, key.indexOf(' '));
    byUrl.set(url, [...(byUrl.get(url) ?? []), ...names]);
  }
  taken.clear();
  idle.clear();
  for (const [url, names] of byUrl) {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
    try {
      for (const name of names) await client.db(name).dropDatabase();
    } catch {
      // The server is gone already; its data goes with it or stays for the next run to ignore.
    } finally {
      await client.close();
    }
  }
}
