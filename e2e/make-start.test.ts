/**
 * `npm start` (scripts/start.ts) as a user runs it: arguments checked before anything starts,
 * `--executors 0`, and no process left behind however it ends. Ports 29221-29223: not the
 * defaults, so a `make start` running on this machine is not disturbed, and below the kernel's
 * ephemeral range (32768-60999), so that no outgoing connection of another process can hold one
 * when a service binds it (that happened in CI with 47222). The test run's
 * MongoDB-wire server with a database of its own, and a unique AMQP prefix.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import amqplib from 'amqplib';
import { MongoClient } from 'mongodb';
import { deleteTopology, topology } from '@tasks/contracts';
import { AMQP_URL, testMongoUrl } from '@tasks/testkit';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STORE_PORT = 29221;
const GATEWAY_PORT = 29222;
const METRICS_PORT = 29223;

interface Started {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | string | null>;
  /** Resolves with the first line matching `re`; rejects if the process exits first. */
  line(re: RegExp): Promise<string>;
}

function startScript(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import=tsx', 'scripts/start.ts', ...args],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        STORE_PORT: String(STORE_PORT),
        GATEWAY_PORT: String(GATEWAY_PORT),
        EXECUTOR_METRICS_PORT: String(METRICS_PORT),
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.filter((w) => w.re.test(l))) w.resolve(l);
  });
  const exited = new Promise<number | string | null>((r) => child.once('exit', (c, s) => r(c ?? s)));
  return {
    child,
    lines,
    exited,
    line: (re) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => re.test(l));
        if (seen !== undefined) return resolve(seen);
        waiters.push({ re, resolve });
        void exited.then((code) =>
          reject(new Error(`start.ts exited (${code}) before ${re}: ${lines.join('\n')}`)),
        );
      }),
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function listeners(): Promise<number[]> {
  const ports = [STORE_PORT, GATEWAY_PORT, METRICS_PORT];
  const open = await Promise.all(ports.map(listening));
  return ports.filter((_, i) => open[i]);
}

/** Waits (polling) until no port of ours is listened on; resolves with those still open after `ms`. */
async function listenersAfter(ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let open = await listeners();
  while (open.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    open = await listeners();
  }
  return open;
}

describe('make start (scripts/start.ts)', function () {
  this.timeout(120_000);

  before(async () => {
    expect(await listeners(), 'ports 29221-29223 free before the tests').to.deep.equal([]);
  });

  for (const [args, env] of [
    [['--executors', 'x'], {}],
    [['--executors', '17'], {}],
    [['--executors'], {}],
    [['--nope'], {}],
    [['extra'], {}],
    [[], { LOG_FORMAT: 'fancy' }],
  ] as const) {
    it(`when run with ${JSON.stringify(args)} ${JSON.stringify(env)}, then it says why in one line, exits 2 and starts nothing`, async () => {
      const started = startScript([...args], { MONGO_URL: 'mongodb://127.0.0.1:1/', ...env });
      expect(await started.exited).to.equal(2);
      expect(started.lines).to.have.length(1);
      expect(started.lines[0]).to.match(/^\[start\] .*--help/);
      expect(await listeners()).to.deep.equal([]);
    });
  }

  it('when run with --help, then it prints the usage and exits 0', async () => {
    const started = startScript(['--help']);
    expect(await started.exited).to.equal(0);
    expect(started.lines.join('\n')).to.match(/--executors N/);
  });

  describe('running', () => {
    const db = `start_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    const prefix = `start-${randomUUID()}`;
    // The root hook sets MONGO_URL after this file is loaded.
    const env = () => ({ MONGO_URL: testMongoUrl(), MONGO_DB: db, AMQP_PREFIX: prefix });
    let started: Started | undefined;

    afterEach(async () => {
      if (started && started.child.exitCode === null && started.child.signalCode === null) {
        started.child.kill('SIGINT');
        await started.exited;
      }
      started = undefined;
    });

    after(async () => {
      const conn = await amqplib.connect(AMQP_URL);
      const ch = await conn.createChannel();
      const mongo = new MongoClient(testMongoUrl());
      const types = await mongo.db(db).collection<{ _id: string }>('task_types').find({}).toArray();
      await deleteTopology(
        ch,
        topology(prefix),
        types.map((t) => t._id),
      );
      await conn.close();
      await mongo.db(db).dropDatabase();
      await mongo.close();
    });

    it('when run with --executors 0, then the store and the gateway run without an executor, and SIGINT stops them all', async () => {
      started = startScript(['--executors', '0'], env());
      await started.line(/press Ctrl-C to stop/);
      expect(started.lines.join('\n')).to.match(/executors: +none/);
      expect(started.lines.join('\n')).to.match(/access: .*no API keys.*127\.0\.0\.1 only/);
      expect((await fetch(`http://127.0.0.1:${STORE_PORT}/readyz`)).status).to.equal(200);
      expect((await fetch(`http://127.0.0.1:${GATEWAY_PORT}/readyz`)).status).to.equal(200);
      expect(await listening(METRICS_PORT), 'an executor ops port').to.equal(false);
      // Not a terminal: the services' lines are their JSON, prefixed (the gateway warns of no API keys).
      expect(started.lines.join('\n')).to.match(/logs: +json/);
      expect(started.lines.some((l) => /^\[gateway\] \{"level":40,.*API_KEYS/.test(l))).to.equal(true);
      started.child.kill('SIGINT');
      expect(await started.exited).to.equal(0);
      expect(await listeners(), 'ports still listened on once start.ts has exited').to.deep.equal([]);
    });

    it("when LOG_FORMAT=pretty, then the services' lines are shown by pino-pretty, one line each", async () => {
      started = startScript(['--executors', '0'], { ...env(), LOG_FORMAT: 'pretty' });
      await started.line(/press Ctrl-C to stop/);
      const warning = await started.line(/^\[gateway\] .*API_KEYS/);
      expect(warning).to.match(/^\[gateway\] \[\d\d:\d\d:\d\d\.\d{3}\] WARN: API_KEYS is not set/);
      expect(
        started.lines.some((l) => /^\[(gateway|task-store)\] \{/.test(l)),
        'a JSON line',
      ).to.equal(false);
    });

    it('when a service dies at start-up, then start.ts stops the others and exits 1', async () => {
      // Takes the gateway's port; answers nothing (start.ts's readiness probe must not hang on it).
      const squatter: Server = createServer((socket) => socket.destroy());
      await new Promise<void>((r) => squatter.listen(GATEWAY_PORT, '127.0.0.1', r));
      try {
        started = startScript(['--executors', '0'], env());
        expect(await started.exited).to.equal(1);
        expect(started.lines.join('\n')).to.match(/stopping: gateway exited/);
      } finally {
        await new Promise((r) => squatter.close(r));
      }
      expect(await listeners(), 'ports still listened on once start.ts has exited').to.deep.equal([]);
    });

    it('when start.ts is SIGKILLed, then the processes it started stop too', async () => {
      started = startScript(['--executors', '1'], env());
      await started.line(/press Ctrl-C to stop/);
      expect(await listeners()).to.deep.equal([STORE_PORT, GATEWAY_PORT, METRICS_PORT]);
      started.child.kill('SIGKILL');
      await started.exited;
      // The reaper stops them one after the other, each within its grace period.
      expect(await listenersAfter(60_000), 'ports still listened on').to.deep.equal([]);
    });
  });
});
