/**
 * The processes `npm start` runs, and the one way they stop: newest first, each with SIGTERM and
 * then SIGKILL if it outlives its grace period, the database last. Services run in their own
 * process group so that a Ctrl-C reaches start.ts alone, which stops them in that order; an orphan
 * reaper (orphan-reaper.ts) stops them if start.ts is killed before it can.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { MongoHandle } from '@tasks/dev-mongo';

/** How long a service may take to stop (its default 10 s grace + close allowance + margin). */
const STOP_WAIT_MS = 15_000;

const REAPER = fileURLToPath(new URL('./orphan-reaper.ts', import.meta.url));

export class Supervisor {
  private readonly children: { name: string; child: ChildProcess }[] = [];
  private mongo: Promise<MongoHandle | undefined> | undefined;
  private readonly reaper: ChildProcess;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly say: (line: string) => void,
    /** Called once when a service exits while nothing asked it to. */
    private readonly onUnexpectedExit: (name: string, code: number | null, signal: string | null) => void,
    /** Turns a service's output line into what is shown (log-format.ts). */
    private readonly format: (line: string) => string = (line) => line,
  ) {
    this.reaper = spawn(process.execPath, ['--import=tsx', REAPER], {
      stdio: ['pipe', 'ignore', 'inherit'],
      detached: true,
    });
    this.reaper.unref();
  }

  get stopping(): boolean {
    return this.stopped !== undefined;
  }

  /** Provisions the database through `provision`; stop() waits for it and stops it last. */
  async database(provision: () => Promise<MongoHandle>): Promise<MongoHandle> {
    const started = provision();
    this.mongo = started.then(
      (mongo) => {
        if (mongo.pid !== undefined) this.register(mongo.pid);
        return mongo;
      },
      () => undefined,
    );
    await this.mongo;
    return started;
  }

  /** Starts a service (`node --import=tsx entry`) with its output prefixed by its name. */
  start(name: string, entry: string, env: Record<string, string>): void {
    const child = spawn(process.execPath, ['--conditions=source', '--import=tsx', entry], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid !== undefined) this.register(child.pid);
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (l) =>
        process.stdout.write(`[${name}] ${this.format(l)}\n`),
      );
    child.once('exit', (code, signal) => {
      if (!this.stopping) this.onUnexpectedExit(name, code, signal);
    });
    this.children.push({ name, child });
  }

  /** Stops every service newest first, then the database; idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      for (const { name, child } of [...this.children].reverse()) await this.stopChild(name, child);
      const mongo = await this.mongo;
      if (mongo) await this.stopDatabase(mongo);
      this.reaper.stdin?.end('done\n');
    })();
    return this.stopped;
  }

  private register(pid: number): void {
    this.reaper.stdin?.write(`${pid}\n`);
  }

  private async stopChild(name: string, child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.say(`${name} still running ${STOP_WAIT_MS / 1000} s after SIGTERM; killing it`);
      child.kill('SIGKILL');
    }, STOP_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }

  private async stopDatabase(mongo: MongoHandle): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_WAIT_MS)));
    const outcome = await Promise.race([mongo.stop().catch(() => undefined), late]);
    clearTimeout(timer);
    if (outcome === 'late' && mongo.pid !== undefined) {
      this.say(`${mongo.server} still running ${STOP_WAIT_MS / 1000} s after SIGTERM; killing it`);
      try {
        process.kill(mongo.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}
