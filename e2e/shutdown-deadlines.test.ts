/**
 * SIGTERM ends every service within its grace period (plus the close allowance) whatever state
 * its dependencies are in: the store with its database gone, the gateway with its store
 * black-holed, the executor with its broker black-holed. Each runs as a process, as in production.
 */
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionMongo, type MongoHandle } from '@tasks/dev-mongo';
import { startTcpProxy, type TcpProxy, testMongoUrl } from '@tasks/testkit';
import { AMQP_URL, freePort, startSystem, type RunningSystem } from '@tasks/testkit';

const GRACE_MS = 2_000;
const MARGIN_MS = 5_000;

/** The exit code (or signal), or 'still running' when the process outlives grace + margin. */
async function exitAfterSigterm(sys: RunningSystem, name: string): Promise<number | string | null> {
  const child = sys.children.get(name)!;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    sys.exited(name),
    new Promise<string>((r) => (timer = setTimeout(() => r('still running'), GRACE_MS + MARGIN_MS))),
  ]);
  clearTimeout(timer);
  if (outcome === 'still running') child.kill('SIGKILL');
  return outcome;
}

describe('shutdown deadlines (each service as a process)', function () {
  this.timeout(90_000);
  let sys: RunningSystem | undefined;
  let mongo: MongoHandle | undefined;
  let proxy: TcpProxy | undefined;

  afterEach(async () => {
    await sys?.stop().catch(() => undefined);
    await proxy?.close();
    await mongo?.stop().catch(() => undefined);
    sys = mongo = proxy = undefined;
  });

  it('when the store database is gone and the store gets SIGTERM, then it exits within its grace period plus 5 s', async () => {
    // A private FerretDB (SQLite, temporary directory) that this test may kill.
    mongo = await provisionMongo({
      env: {
        ...process.env,
        MONGO_URL: '',
        DEV_MONGO_SKIP_MEMORY_SERVER: '1',
        DEV_MONGO_FERRETDB_HANDLER: 'sqlite',
      },
      dataDir: mkdtempSync(join(tmpdir(), 'shutdown-deadline-')),
    });
    sys = await startSystem({
      executors: 0,
      storeEnv: { MONGO_URL: mongo.url, SHUTDOWN_GRACE_MS: String(GRACE_MS) },
    });
    await mongo.stop(); // the gateway's dispatcher keeps calling the store, which now waits on a dead database
    await new Promise((r) => setTimeout(r, 1_000));
    const outcome = await exitAfterSigterm(sys, 'store');
    expect(outcome, 'store exit').to.be.a('number');
  });

  it('when the store database is black-holed and the store gets SIGTERM, then it exits within its grace period plus 5 s', async () => {
    const mongoUrl = new URL(testMongoUrl());
    proxy = await startTcpProxy(Number(mongoUrl.port), mongoUrl.hostname);
    mongoUrl.port = String(proxy.port);
    sys = await startSystem({
      executors: 0,
      storeEnv: { MONGO_URL: mongoUrl.toString(), SHUTDOWN_GRACE_MS: String(GRACE_MS) },
    });
    proxy.stall(); // connections stay open, no byte passes: every MongoDB call of the store hangs
    await new Promise((r) => setTimeout(r, 1_000));
    const outcome = await exitAfterSigterm(sys, 'store');
    expect(outcome, 'store exit').to.be.a('number');
  });

  it('when the store is black-holed and the gateway gets SIGTERM, then it exits within its grace period plus 5 s', async () => {
    const storePort = await freePort();
    proxy = await startTcpProxy(storePort);
    sys = await startSystem({
      executors: 0,
      storePort,
      clientStorePort: proxy.port,
      gatewayEnv: { SHUTDOWN_GRACE_MS: String(GRACE_MS) },
    });
    const accepted = await fetch(`${sys.gatewayUrl}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'noop', payload: {} }),
    });
    expect(accepted.status, 'an answer through the proxy').to.be.below(500);
    proxy.stall();
    await new Promise((r) => setTimeout(r, 1_000)); // the dispatcher's calls now hang
    const outcome = await exitAfterSigterm(sys, 'gateway');
    expect(outcome, 'gateway exit').to.be.a('number');
  });

  it('when the broker is black-holed and an executor gets SIGTERM, then it exits within its grace period plus 5 s', async () => {
    proxy = await startTcpProxy(Number(new URL(AMQP_URL).port || 5672));
    sys = await startSystem({ executors: 0 });
    const name = await sys.addExecutor({
      AMQP_URL: AMQP_URL.replace(/:\d+$/, `:${proxy.port}`),
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
    });
    proxy.stall();
    const outcome = await exitAfterSigterm(sys, name);
    expect(outcome, 'executor exit').to.be.a('number');
  });
});
