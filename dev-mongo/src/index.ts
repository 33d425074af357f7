/**
 * One way to get a MongoDB-wire server, for tests and for local runs (DESIGN.md, last section):
 * MONGO_URL if set; else mongodb-memory-server (a real mongod, when one can be downloaded or
 * MONGOMS_SYSTEM_BINARY names one); else FerretDB 1.x built with the Go toolchain, on PostgreSQL
 * (tuned: ferretdb-tuning.ts) or SQLite.
 */
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startFerretDb, type FerretDbOptions } from './ferretdb.js';
import { tuneFerretDb, type EqualityFields } from './ferretdb-tuning.js';

export {
  ensureFerretDbBinary,
  ferretDbBinaryPath,
  ferretDbPostgresqlUrl,
  startFerretDb,
  FERRETDB_VERSION,
  type FerretDbOptions,
  type RunningFerretDb,
} from './ferretdb.js';

export { tuneFerretDb, ferretDbTables, type EqualityFields } from './ferretdb-tuning.js';
export {
  dropTestDatabases,
  releaseTestDatabase,
  takeTestDatabase,
  type TestDatabaseServer,
} from './test-databases.js';

export type MongoSource = 'MONGO_URL' | 'mongodb-memory-server' | 'ferretdb';

export interface MongoHandle {
  url: string;
  source: MongoSource;
  /** Server name and version, e.g. "FerretDB v1.24.2" or "MongoDB 7.0.14". */
  server: string;
  /** Where the data lives, in words (a directory, or a PostgreSQL database); absent for MONGO_URL. */
  data?: string;
  /** The server process we started (FerretDB or mongod), for a supervisor that must not leave it behind. */
  pid?: number;
  /** The PostgreSQL database FerretDB keeps its data in, when FerretDB runs on PostgreSQL. */
  postgresqlUrl?: string;
  stop(): Promise<void>;
}

export interface ProvisionOptions {
  env?: NodeJS.ProcessEnv;
  /** Where FerretDB keeps its files; a fresh temporary directory (removed on stop) when absent. */
  dataDir?: string;
  /**
   * Where mongodb-memory-server's mongod keeps its files so that they survive a restart (created
   * when missing, never removed); a temporary directory (removed on stop) when absent, as tests want.
   */
  mongodDataDir?: string;
  /**
   * Start FerretDB in its own process group, so that a Ctrl-C in the terminal reaches only our
   * process, which can then stop the services before their database.
   */
  ownProcessGroup?: boolean;
  /** Progress lines; silent by default. */
  log?: (line: string) => void;
  /** How long mongodb-memory-server may take before we fall back (it downloads on first use). */
  memoryServerTimeoutMs?: number;
}

export async function provisionMongo(options: ProvisionOptions = {}): Promise<MongoHandle> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);

  if (env.MONGO_URL) {
    return {
      url: env.MONGO_URL,
      source: 'MONGO_URL',
      server: await describeServer(env.MONGO_URL),
      // A FerretDB of one's own on PostgreSQL: say where, and prepareDatabase tunes it too.
      ...(env.DEV_MONGO_POSTGRESQL_URL && { postgresqlUrl: env.DEV_MONGO_POSTGRESQL_URL }),
      stop: async () => {},
    };
  }

  if (env.DEV_MONGO_SKIP_MEMORY_SERVER !== '1' && (await mongodCanBeHad(env))) {
    try {
      const handle = await startMemoryServer(options.memoryServerTimeoutMs ?? 60_000, options.mongodDataDir);
      log(`using mongodb-memory-server at ${handle.url}`);
      return handle;
    } catch (err) {
      log(`mongodb-memory-server unavailable (${firstLine(err)}); falling back to FerretDB`);
    }
  } else {
    log(
      'no mongod to be had for mongodb-memory-server (no MONGOMS_SYSTEM_BINARY, no download host); using FerretDB',
    );
  }

  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ferretdb-'));
  const removeTemporary = () => {
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (const backend of await ferretDbBackends(env)) {
      const ferret = await startFerretDb({ dataDir, backend, log, detached: options.ownProcessGroup });
      const stop = async () => {
        if (ferret.process.exitCode === null && ferret.process.signalCode === null) {
          const exited = new Promise((r) => ferret.process.once('exit', r));
          ferret.process.kill('SIGTERM');
          await exited;
        }
      };
      try {
        const server = await describeServer(ferret.url);
        const where =
          backend.handler === 'postgresql' ? `PostgreSQL ${redact(backend.url)}` : `SQLite in ${dataDir}`;
        log(`using ${server} at ${ferret.url} (data: ${where})`);
        return {
          url: ferret.url,
          source: 'ferretdb',
          server: `${server} on ${backend.handler === 'postgresql' ? 'PostgreSQL' : 'SQLite'}`,
          data: where,
          pid: ferret.process.pid,
          ...(backend.handler === 'postgresql' && { postgresqlUrl: backend.url }),
          stop: async () => {
            await stop();
            removeTemporary();
          },
        };
      } catch (err) {
        await stop();
        if (backend.handler === 'sqlite') throw err;
        log(`FerretDB cannot use PostgreSQL (${firstLine(err)}); trying SQLite`);
      }
    }
    throw new Error('no FerretDB backend could be started');
  } catch (err) {
    removeTemporary();
    throw err;
  }
}

/**
 * PostgreSQL when one answers (FERRETDB_POSTGRESQL_URL, default the local server's `postgres`
 * database): FerretDB 1.x pushes filters down to PostgreSQL but not to SQLite, which makes the
 * store's per-task lookups an order of magnitude faster. SQLite otherwise, or when
 * DEV_MONGO_FERRETDB_HANDLER=sqlite.
 */
async function ferretDbBackends(env: NodeJS.ProcessEnv): Promise<FerretDbOptions['backend'][]> {
  const sqlite = { handler: 'sqlite' } as const;
  if (env.DEV_MONGO_FERRETDB_HANDLER === 'sqlite') return [sqlite];
  const url = env.FERRETDB_POSTGRESQL_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const { hostname, port } = new URL(url);
  return (await tcpOpen(hostname, Number(port || 5432)))
    ? [{ handler: 'postgresql', url }, sqlite]
    : [sqlite];
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

async function mongodCanBeHad(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (env.MONGOMS_SYSTEM_BINARY) return true;
  const cache = env.MONGOMS_DOWNLOAD_DIR ?? join(homedir(), '.cache', 'mongodb-binaries');
  if (existsSync(cache) && readdirSync(cache).some((f) => f.startsWith('mongod'))) return true;
  const host = new URL(env.MONGOMS_DOWNLOAD_MIRROR ?? 'https://fastdl.mongodb.org').hostname;
  const resolved = await Promise.race([
    lookup(host).then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), 3_000).unref()),
  ]);
  return resolved;
}

async function startMemoryServer(timeoutMs: number, dbPath: string | undefined): Promise<MongoHandle> {
  // Imported lazily: most runs here never get this far.
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no mongod after ${timeoutMs} ms`)), timeoutMs);
  });
  // A dbPath we give is kept on stop (mongodb-memory-server removes only the directories it made);
  // wiredTiger because an in-memory engine would keep nothing.
  if (dbPath !== undefined) mkdirSync(dbPath, { recursive: true });
  const starting = MongoMemoryServer.create({
    instance: { ip: '127.0.0.1', ...(dbPath !== undefined && { dbPath, storageEngine: 'wiredTiger' }) },
  });
  try {
    const mms = await Promise.race([starting, timeout]);
    const url = mms.getUri();
    return {
      url,
      source: 'mongodb-memory-server',
      server: await describeServer(url),
      data: dbPath ?? 'a temporary directory (removed on stop)',
      pid: mms.instanceInfo?.instance.mongodProcess?.pid,
      stop: async () => {
        await mms.stop();
      },
    };
  } catch (err) {
    // If it started after we gave up, stop it rather than leak a mongod.
    starting
      .then(
        (m) => m.stop(),
        () => undefined,
      )
      .catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes one database ready for an application that filters on `fields` by equality: on FerretDB
 * on PostgreSQL, the indexes its pushed-down filters can use (ferretdb-tuning.ts); nothing on
 * MongoDB, whose own indexes (the application's createIndexes) serve those filters already.
 * Idempotent; run it before or after the application creates its collections.
 */
export async function prepareDatabase(
  server: { url: string; postgresqlUrl?: string },
  database: string,
  fields: EqualityFields,
): Promise<void> {
  if (server.postgresqlUrl === undefined) return;
  await tuneFerretDb({ mongoUrl: server.url, postgresqlUrl: server.postgresqlUrl, database, fields });
}

/** Connects once and names the server: FerretDB says so in buildInfo. */
export async function describeServer(url: string): Promise<string> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    await client.db('admin').command({ listDatabases: 1, nameOnly: true }); // reaches the storage backend
    return typeof info.ferretdbVersion === 'string'
      ? `FerretDB ${info.ferretdbVersion} (MongoDB ${String(info.version)} wire)`
      : `MongoDB ${String(info.version)}`;
  } finally {
    await client.close();
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
