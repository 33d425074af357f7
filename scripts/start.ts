/**
 * Runs the system on this machine: a MongoDB-wire server (MONGO_URL, else mongodb-memory-server,
 * else FerretDB with its data in .data/ferretdb so tasks survive a restart) and the task store.
 * Output of each process is prefixed with its name; Ctrl-C stops everything in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { provisionMongo } from '@tasks/dev-mongo';

const say = (line: string) => process.stdout.write(`[start] ${line}\n`);

function prefixed(name: string, child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream)
      createInterface({ input: stream }).on('line', (l) => process.stdout.write(`[${name}] ${l}\n`));
  }
}

async function main(): Promise<void> {
  mkdirSync('.data/ferretdb', { recursive: true });
  say('starting MongoDB-wire server');
  const mongo = await provisionMongo({ dataDir: '.data/ferretdb', log: say });
  const storePort = process.env.STORE_PORT ?? '4001';
  const store = spawn(
    process.execPath,
    ['--conditions=source', '--import=tsx', 'task-store-service/src/main.ts'],
    {
      env: { ...process.env, MONGO_URL: mongo.url, PORT: storePort },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  prefixed('task-store', store);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    if (store.exitCode === null) {
      const exited = new Promise((r) => store.once('exit', r));
      store.kill('SIGTERM');
      await exited;
    }
    await mongo.stop();
    say('stopped');
    process.exit(code);
  };
  store.once('exit', (code) => {
    if (!stopping) {
      say(`task-store exited with ${code}; stopping`);
      void stop(1);
    }
  });
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  // Announce the URLs once the store answers.
  const base = `http://127.0.0.1:${storePort}`;
  for (let i = 0; i < 100 && !stopping; i++) {
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      say(`MongoDB:         ${mongo.server} at ${mongo.url}`);
      say(`task store RPC:  ${base}/rpc   (JSON-RPC 2.0, POST)`);
      say(`health:          ${base}/healthz  ${base}/readyz`);
      say(`metrics:         ${base}/metrics`);
      say('press Ctrl-C to stop');
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[start] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
