/** Parent side of store-process.ts: forks it once, then starts and stops stores in it. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MongoClient } from 'mongodb';
import { progress, type Budget } from '../lib/measure.js';
import type { HostReply, HostRequest } from './store-process.js';

export class StoreHost {
  private pending: { resolve: (r: HostReply) => void; reject: (e: Error) => void } | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: HostReply) => {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(reply);
    });
    // A send on a closed channel (the store went away) surfaces here as well as in request().
    child.on('error', (err) => {
      const p = this.pending;
      this.pending = undefined;
      p?.reject(err);
    });
    child.on('exit', (code, signal) => {
      const p = this.pending;
      this.pending = undefined;
      p?.reject(new Error(`store process exited (${code ?? signal})`));
    });
  }

  /** Forks with this process's execArgv, so tsx and `--conditions=source` carry over. */
  static spawn(): StoreHost {
    const entry = fileURLToPath(new URL('./store-process.ts', import.meta.url));
    const child = fork(entry, [], {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new StoreHost(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts a store on `db` (closing any previous one) and returns its JSON-RPC URL. */
  async start(mongoUrl: string, db: string): Promise<string> {
    const reply = await this.request({ op: 'start', mongoUrl, db });
    if ('url' in reply) return reply.url;
    throw new Error('error' in reply ? reply.error : 'store did not start');
  }

  async stop(): Promise<void> {
    const reply = await this.request({ op: 'stop' });
    if ('error' in reply) throw new Error(reply.error);
  }

  /** Closes the store and waits for the child to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    if (this.child.connected) this.child.disconnect();
    else this.child.kill('SIGTERM');
    await exited;
    clearTimeout(killer);
  }

  private request(req: HostRequest): Promise<HostReply> {
    if (this.pending) return Promise.reject(new Error('store host is busy'));
    if (!this.child.connected) return Promise.reject(new Error('store process is gone'));
    return new Promise<HostReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(req, (err) => {
        if (err && this.pending) {
          this.pending = undefined;
          reject(err);
        }
      });
    });
  }
}

/**
 * Stops the store and drops the database it used. A failure is reported as progress, never
 * thrown: cleanup must not hide the error that got us here (e.g. an interrupt closing the store).
 */
export async function stopStoreAndDrop(
  deps: { host: StoreHost; mongo: MongoClient; budget: Budget },
  db: string,
): Promise<void> {
  const warn = (what: string) => (err: unknown) =>
    progress(deps.budget, `cleanup: ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  await deps.host.stop().catch(warn('stopping the store'));
  await deps.mongo
    .db(db)
    .dropDatabase()
    .catch(warn(`dropping ${db}`));
}
