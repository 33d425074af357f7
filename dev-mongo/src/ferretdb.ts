import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const FERRETDB_VERSION = 'v1.24.2';

export interface FerretDbOptions {
  /** Directory for FerretDB's state (and the SQLite files with that handler). */
  dataDir: string;
  /** `postgresql` keeps data in that PostgreSQL database (one schema per MongoDB database). */
  backend: { handler: 'sqlite' } | { handler: 'postgresql'; url: string };
  /** Progress lines (building, starting). */
  log: (line: string) => void;
  port?: number;
  startTimeoutMs?: number;
  /** Its own process group: a terminal's Ctrl-C does not reach it (whoever started it stops it). */
  detached?: boolean;
}

export interface RunningFerretDb {
  url: string;
  process: ChildProcess;
}

/** Where the built binary is cached: FERRETDB_BIN, else ~/.cache/task-system/ferretdb-<version>/ferretdb. */
export function ferretDbBinaryPath(env = process.env): string {
  if (env.FERRETDB_BIN) return env.FERRETDB_BIN;
  const cache = env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'task-system', `ferretdb-${FERRETDB_VERSION}`, 'ferretdb');
}

/** Builds FerretDB once with the Go toolchain (see scripts/build-ferretdb.sh) and returns the binary. */
export function ensureFerretDbBinary(log: (line: string) => void): string {
  const bin = ferretDbBinaryPath();
  if (existsSync(bin)) return bin;
  log(`FerretDB ${FERRETDB_VERSION} is not built yet; building it into ${bin}`);
  const script = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'build-ferretdb.sh');
  const r = spawnSync('bash', [script, bin], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, FERRETDB_VERSION },
  });
  if (r.status !== 0 || !existsSync(bin)) {
    throw new Error(`building FerretDB failed (exit ${r.status ?? r.signal}); see the lines above`);
  }
  return bin;
}

/**
 * The URL FerretDB connects to PostgreSQL with. FerretDB hands it to pgx, which sends query
 * parameters it does not know as run-time parameters. FerretDB runs each filter as one cached
 * prepared statement with the field name as a parameter (`_jsonb->$1 @> $2`); after five runs
 * PostgreSQL may switch to the generic plan, which cannot match an index on `_jsonb->'_id'` and
 * scans. force_custom_plan plans each execution for its own field and value.
 */
export function ferretDbPostgresqlUrl(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('plan_cache_mode')) u.searchParams.set('plan_cache_mode', 'force_custom_plan');
  return u.toString();
}

/** Starts FerretDB with the given handler on loopback, telemetry off, its own state dir and debug port. */
export async function startFerretDb(opts: FerretDbOptions): Promise<RunningFerretDb> {
  const bin = ensureFerretDbBinary(opts.log);
  const stateDir = join(opts.dataDir, 'state');
  mkdirSync(stateDir, { recursive: true });
  const child = spawn(
    bin,
    [
      ...(opts.backend.handler === 'postgresql'
        ? ['--handler=postgresql', `--postgresql-url=${ferretDbPostgresqlUrl(opts.backend.url)}`]
        : ['--handler=sqlite', `--sqlite-url=file:${opts.dataDir}/`]),
      `--listen-addr=127.0.0.1:${opts.port ?? 0}`,
      '--debug-addr=127.0.0.1:0',
      '--telemetry=disable',
      `--state-dir=${stateDir}`,
      '--log-format=json',
      '--log-level=info',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: opts.detached === true },
  );

  const port = await new Promise<number>((resolvePort, reject) => {
    const lines = createInterface({ input: child.stderr });
    const recent: string[] = [];
    const timer = setTimeout(
      () => fail(new Error(`FerretDB did not start listening within ${opts.startTimeoutMs ?? 15_000} ms`)),
      opts.startTimeoutMs ?? 15_000,
    );
    function fail(err: Error) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${recent.join('\n')}`));
    }
    child.once('exit', (code, signal) => fail(new Error(`FerretDB exited early (${code ?? signal})`)));
    child.once('error', (err) => fail(err));
    lines.on('line', (line) => {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      const m = /Listening on TCP 127\.0\.0\.1:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolvePort(Number(m[1]));
      }
    });
  });
  // Keep draining stderr so the child never blocks on a full pipe.
  child.stderr.resume();
  return { url: `mongodb://127.0.0.1:${port}/`, process: child };
}
