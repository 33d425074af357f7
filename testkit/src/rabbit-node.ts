/**
 * A private RabbitMQ node for the fault suite: its own node name, ports, data and log directories
 * and Erlang cookie, so that `close_all_connections` and `stop_app` hit nobody else's tests. It
 * runs the machine's RabbitMQ installation as the current user (root in CI) from a temporary
 * directory and is halted and deleted at the end.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The scripts themselves, not the Debian wrappers in /usr/sbin, which switch to the rabbitmq user. */
const BIN_DIRS = ['/usr/lib/rabbitmq/bin', '/usr/local/lib/rabbitmq/bin', '/opt/rabbitmq/sbin'];

export interface RabbitNode {
  node: string;
  port: number;
  url: string;
  dir: string;
  ctl(...args: string[]): Promise<string>;
  closeAllConnections(reason?: string): Promise<void>;
  stopApp(): Promise<void>;
  startApp(): Promise<void>;
  /** Ready and unacknowledged messages of every queue whose name starts with `prefix`. */
  queues(prefix: string): Promise<Map<string, { ready: number; unacked: number }>>;
  /** How many client connections the node has. */
  connections(): Promise<number>;
  stop(): Promise<void>;
}

/** A port outside the kernel's ephemeral range, so that no outgoing connection can hold it meanwhile. */
async function freeFixedPort(): Promise<number> {
  for (;;) {
    const port = 11_000 + Math.floor(Math.random() * 9_000); // clear of 25672, the main node's
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export async function startRabbitNode(): Promise<RabbitNode> {
  const bin = BIN_DIRS.find((d) => existsSync(join(d, 'rabbitmq-server')));
  if (!bin) throw new Error(`no RabbitMQ installation found in ${BIN_DIRS.join(', ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'faults-rabbit-'));
  const home = join(dir, 'home');
  await mkdir(home);
  await writeFile(join(home, '.erlang.cookie'), randomBytes(20).toString('hex'), { mode: 0o400 });
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  await writeFile(join(dir, 'rabbitmq-env.conf'), '');
  // guest may connect from loopback only (the default), which is all the suite does.
  await writeFile(join(dir, 'rabbitmq.conf'), 'log.console = false\n');
  const port = await freeFixedPort();
  let dist = await freeFixedPort();
  while (dist === port) dist = await freeFixedPort();
  const node = `faults-${randomBytes(4).toString('hex')}@localhost`;
  const env = {
    ...process.env,
    HOME: home,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const ctl = async (...args: string[]) =>
    (await run(join(bin, 'rabbitmqctl'), ['-n', node, ...args], { env: { ...process.env, HOME: home } }))
      .stdout;
  // In the foreground as our child (not -detached), so that a node that fails to boot says why
  // in server.log; stop() (the suite's root hook) halts it.
  const log = openSync(join(dir, 'server.log'), 'a');
  const server = spawn(join(bin, 'rabbitmq-server'), [], { env, cwd: dir, stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  let gone = false;
  void exited.then(() => (gone = true));
  // await_startup fails at once until the node has registered with epmd, so ask until it answers.
  for (const deadline = Date.now() + 120_000; ;) {
    if (gone) throw new Error(`the private RabbitMQ node exited while starting; see ${dir}/server.log`);
    try {
      await ctl('await_startup', '--timeout', '60');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return {
    node,
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    dir,
    ctl,
    async closeAllConnections(reason = 'fault injected by the test') {
      await ctl('close_all_connections', reason);
    },
    async stopApp() {
      await ctl('stop_app');
    },
    async startApp() {
      await ctl('start_app');
      await ctl('await_startup', '--timeout', '120');
    },
    async queues(prefix) {
      const out = await ctl(
        'list_queues',
        '-q',
        '--no-table-headers',
        'name',
        'messages_ready',
        'messages_unacknowledged',
      );
      const map = new Map<string, { ready: number; unacked: number }>();
      for (const line of out.split('\n')) {
        const [name, ready, unacked] = line.trim().split(/\s+/);
        if (name?.startsWith(prefix)) map.set(name, { ready: Number(ready), unacked: Number(unacked) });
      }
      return map;
    },
    async connections() {
      const out = await ctl('list_connections', '-q', '--no-table-headers', 'pid');
      return out.split('\n').filter((l) => l.trim()).length;
    },
    async stop() {
      await ctl('stop').catch(() => server.kill('SIGKILL'));
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
