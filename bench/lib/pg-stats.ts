/**
 * When FerretDB keeps its data in PostgreSQL (dev-mongo's choice when one answers): the
 * benchmark gives it a database of its own (`e2e_bench_<random>`, dropped at the end), so that
 * PostgreSQL's work can be told apart from other users of the same server: the backends serving
 * that database (for their CPU), its committed transactions, and the server-wide WAL counters
 * (WAL is shared by the whole server: anything else writing meanwhile is counted too).
 * Talks to PostgreSQL through psql; without psql these figures are left out.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';

export interface PgSnapshot {
  commits: number;
  /** Rows read by sequential scans / fetched through indexes, over our database's tables. */
  seqRowsRead: number;
  indexRowsFetched: number;
  walRecords: number;
  walBytes: number;
  walSyncs: number;
}

export interface PgSettings {
  version: string;
  fsync: string;
  synchronousCommit: string;
  walSyncMethod: string;
}

function psql(url: string, sql: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('psql', [url, '-XAtq', '-F', '|', '-c', sql], { timeout: 10_000 }, (err, stdout) =>
      resolve(err ? null : stdout.trim()),
    );
  });
}

export class PgStats {
  private constructor(
    readonly url: string,
    private readonly adminUrl: string,
    readonly database: string,
  ) {}

  /** Creates a database of our own next to `adminUrl`'s; undefined when psql cannot reach the server. */
  static async create(adminUrl: string): Promise<PgStats | undefined> {
    const database = `e2e_bench_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    if ((await psql(adminUrl, `create database ${database}`)) === null) return undefined;
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    return new PgStats(url.toString(), adminUrl, database);
  }

  async drop(): Promise<void> {
    await psql(this.adminUrl, `drop database if exists ${this.database} with (force)`);
  }

  async snapshot(): Promise<PgSnapshot | null> {
    const out = await psql(
      this.url,
      `select (select xact_commit from pg_stat_database where datname = current_database()),
              (select coalesce(sum(seq_tup_read), 0) from pg_stat_user_tables),
              (select coalesce(sum(idx_tup_fetch), 0) from pg_stat_user_tables),
              wal_records, wal_bytes, wal_sync from pg_stat_wal`,
    );
    if (!out) return null;
    const [commits, seqRowsRead, indexRowsFetched, walRecords, walBytes, walSyncs] = out
      .split('|')
      .map(Number);
    return {
      commits: commits!,
      seqRowsRead: seqRowsRead!,
      indexRowsFetched: indexRowsFetched!,
      walRecords: walRecords!,
      walBytes: walBytes!,
      walSyncs: walSyncs!,
    };
  }

  /** The server processes serving our database (FerretDB's pooled connections). */
  async backendPids(): Promise<number[]> {
    const out = await psql(
      this.url,
      'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    return out ? out.split('\n').filter(Boolean).map(Number) : [];
  }

  async settings(): Promise<PgSettings | null> {
    const out = await psql(
      this.url,
      "select current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('wal_sync_method')",
    );
    if (!out) return null;
    const [version, fsync, synchronousCommit, walSyncMethod] = out.split('|');
    return {
      version: version!,
      fsync: fsync!,
      synchronousCommit: synchronousCommit!,
      walSyncMethod: walSyncMethod!,
    };
  }
}

/** Per accepted task, between two snapshots. */
export function pgPerTask(
  before: PgSnapshot | null,
  after: PgSnapshot | null,
  tasks: number,
): PgSnapshot | undefined {
  if (!before || !after || tasks === 0) return undefined;
  const per = (k: keyof PgSnapshot) => Math.round(((after[k] - before[k]) / tasks) * 10) / 10;
  return {
    commits: per('commits'),
    seqRowsRead: per('seqRowsRead'),
    indexRowsFetched: per('indexRowsFetched'),
    walRecords: per('walRecords'),
    walBytes: per('walBytes'),
    walSyncs: per('walSyncs'),
  };
}
