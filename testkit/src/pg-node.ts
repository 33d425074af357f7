/**
 * A private PostgreSQL 15 cluster for the fault suite, so that restarting it or killing its
 * backends hits nobody else: its own data directory under the OS temp dir, its own port, its unix
 * socket inside the data directory, trust auth on loopback only. PostgreSQL refuses to run as
 * root, so when the suite runs as root (CI) every server command runs as the `postgres` OS user
 * (runuser). A private FerretDB on it is what the store under test then talks to.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFerretDb } from '@tasks/dev-mongo';
import { freePort } from './ports.js';

const run = promisify(execFile);

const BIN_DIRS = ['/usr/lib/postgresql/15/bin', '/usr/local/pgsql/bin'];

export interface PgNode {
  port: number;
  /** postgres:// URL of the `postgres` database (trust auth, loopback). */
  url: string;
  dir: string;
  /**
   * `pg_ctl stop -m fast` (every connection cut, the port closed), `downMs` later `pg_ctl start`;
   * resolves once the server accepts connections again. `downMs` 0 is `pg_ctl restart -m fast`.
   */
  restart(downMs?: number): Promise<void>;
  /** pg_terminate_backend on every client backend but ours; resolves to how many were killed. */
  killBackends(): Promise<number>;
  /** Runs one SQL statement through psql; returns its unaligned output. */
  sql(statement: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PrivateFerretDb {
  url: string;
  stop(): Promise<void>;
}

async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined; // not root: run the server as ourselves
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

export async function startPgNode(): Promise<PgNode> {
  const bin = BIN_DIRS.find((d) => existsSync(join(d, 'pg_ctl')));
  if (!bin) throw new Error(`no PostgreSQL installation found in ${BIN_DIRS.join(', ')}`);
  const owner = await postgresUser();
  const dir = await mkdtemp(join(tmpdir(), 'faults-pg-'));
  if (owner) await chown(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const asServer = (cmd: string, args: string[]) =>
    owner
      ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: dir })
      : run(join(bin, cmd), args, { cwd: dir });
  await asServer('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  // fsync off: the faults are restarts and killed connections, never a lost machine.
  const opts = `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const ctl = (...args: string[]) => asServer('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), ...args]);
  await ctl('-o', opts, '-w', '-t', '60', 'start');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const sql = async (statement: string) =>
    (
      await run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-At', '-c', statement], {
        cwd: dir,
      })
    ).stdout.trim();
  return {
    port,
    url,
    dir,
    async restart(downMs = 0) {
      if (downMs === 0) return void (await ctl('-m', 'fast', '-w', '-t', '60', 'restart'));
      await ctl('-m', 'fast', '-w', '-t', '60', 'stop');
      await new Promise((r) => setTimeout(r, downMs));
      await ctl('-o', opts, '-w', '-t', '60', 'start');
    },
    async killBackends() {
      const out = await sql(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity ` +
          `WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      return Number(out);
    },
    sql,
    async stop() {
      await ctl('-m', 'immediate', '-w', 'stop').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A private FerretDB (dev-mongo's way of starting one) on the given PostgreSQL node. */
export async function startFerretDbOn(pg: PgNode): Promise<PrivateFerretDb> {
  const ferret = await startFerretDb({
    dataDir: join(pg.dir, 'ferretdb'),
    backend: { handler: 'postgresql', url: pg.url },
    log: () => undefined,
  });
  return {
    url: ferret.url,
    async stop() {
      const child = ferret.process;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
