/**
 * Child process that hosts the real store (startStoreService), so the benchmark measures its
 * own CPU apart from the store's. Driven over the fork IPC channel by store-host.ts: one store
 * at a time, each on its own database and a free port on 127.0.0.1.
 */
import { createLogger, loadConfig, startStoreService, type StoreService } from '@tasks/task-store-service';

export type HostRequest = { op: 'start'; mongoUrl: string; db: string } | { op: 'stop' };
export type HostReply = { url: string } | { stopped: true } | { error: string };

let service: StoreService | undefined;

async function handle(req: HostRequest): Promise<HostReply> {
  const running = service;
  service = undefined;
  await running?.close();
  if (req.op === 'stop') return { stopped: true };
  const config = loadConfig({
    MONGO_URL: req.mongoUrl,
    MONGO_DB: req.db,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
  });
  service = await startStoreService(config, createLogger(config.logLevel));
  return { url: service.url };
}

process.on('message', (req: HostRequest) => {
  handle(req).then(
    (reply) => process.send?.(reply),
    (err: unknown) =>
      process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});

// A terminal Ctrl-C reaches the whole process group: let the benchmark decide when we stop.
process.on('SIGINT', () => undefined);

// The benchmark went away (finished, crashed or interrupted): close the store and leave.
process.on('disconnect', () => {
  const running = service;
  service = undefined;
  (running?.close() ?? Promise.resolve()).finally(() => process.exit(0)).catch(() => process.exit(1));
});
