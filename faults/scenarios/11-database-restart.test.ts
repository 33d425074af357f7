import { expect } from 'chai';
import { checkInvariants } from '../support/checks.js';
import { submit } from '../support/load.js';
import { startFerretDbOn, startPgNode, type PgNode } from '@tasks/testkit';
import { finishedCount, scenario, until } from '../support/scenario.js';

let pg: PgNode | undefined;

describe('fault 11: the database behind the store restarts', () => {
  scenario(
    'the PostgreSQL under FerretDB restarted, then its backends killed, under load',
    {
      load: '1,000 mixed cpu/io tasks + 40 io tasks of 3 s, 16 clients POSTing, 2 executors; the store on a private FerretDB on a private PostgreSQL',
      fault:
        '`pg_ctl stop -m fast`, 3 s, `pg_ctl start` after 200 finished; `pg_terminate_backend` on every client backend after 500 finished',
    },
    async (defer) => {
      const cluster = await startPgNode();
      pg = cluster;
      const ferret = await startFerretDbOn(cluster).catch(async (err: unknown) => {
        await cluster.stop();
        throw err;
      });
      defer(async () => {
        await ferret.stop();
        await cluster.stop();
      });
      return { mongoUrl: ferret.url };
    },
    async ({ sys, node, load, runLog }) => {
      const db = pg!;
      // Long io runs first, so that some are running on both sides of each fault.
      const submitting = Promise.all([
        submit(sys.gatewayUrl, 40, load, { runLog, ioMs: 3_000, concurrency: 4, idempotent: true }),
        submit(sys.gatewayUrl, 1_000, load, { runLog, idempotent: true }),
      ]);
      // The store answers errors while its database is away: count those as "not yet".
      const finished = () => finishedCount(sys).catch(() => 0);
      await until('200 tasks finished', async () => (await finished()) >= 200, 180_000);
      const t0 = Date.now();
      await db.restart(3_000);
      const restartMs = Date.now() - t0;
      await until('500 tasks finished', async () => (await finished()) >= 500, 180_000);
      const killed = await db.killBackends();
      expect(killed, 'client backends killed').to.be.greaterThan(0);
      await submitting;
      expect(load.refused.size, `refused: ${JSON.stringify([...load.refused])}`).to.equal(0);
      const summary = await checkInvariants(sys.storeUrl, node, sys.prefix, load, runLog);
      return `database away ${(restartMs / 1000).toFixed(1)} s, ${killed} backends killed; ${summary}`;
    },
  );
});
