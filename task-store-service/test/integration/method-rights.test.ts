import { expect } from 'chai';
import { TaskStoreClient } from '@tasks/contracts';
import { rejectsWith } from '../support/expect-store-error.js';
import { noopType, rawRpc, startStore, type StoreFixture } from '@tasks/testkit';

const OLD_RPC = 'rpc-token-old-0000000001';
const NEW_RPC = 'rpc-token-new-0000000002';
const OLD_EXECUTOR = 'executor-token-old-000001';
const NEW_EXECUTOR = 'executor-token-new-000002';

const register = (client: TaskStoreClient) =>
  client.call('taskTypes.register', { workerId: 'test', types: [noopType] });

describe('who may call what (integration)', () => {
  let f: StoreFixture;
  const as = (token?: string) =>
    new TaskStoreClient({ url: f.service.url, retries: 0, ...(token && { token }) });
  afterEach(() => f.close());

  describe('a store with RPC_TOKEN and EXECUTOR_TOKEN, each a list of two (rotation)', () => {
    beforeEach(async () => {
      f = await startStore({
        RPC_TOKEN: `${NEW_RPC},${OLD_RPC}`,
        EXECUTOR_TOKEN: `${NEW_EXECUTOR}, ${OLD_EXECUTOR}`,
      });
    });

    it('when an RPC token (old or new) registers a task type, then UNAUTHORIZED and the type is unchanged', async () => {
      for (const token of [NEW_RPC, OLD_RPC]) {
        await rejectsWith(
          as(token).call('taskTypes.register', {
            workerId: 'intruder',
            types: [{ ...noopType, payloadSchema: { type: 'object' } }],
          }),
          'UNAUTHORIZED',
        );
      }
      const [type] = (await as(NEW_RPC).call('taskTypes.list', {})).items;
      expect(type?.registeredBy).to.equal('fixture');
    });

    it('when an RPC token asks for a recount (a scan of every task), then UNAUTHORIZED; an executor token may', async () => {
      await rejectsWith(as(NEW_RPC).call('tasks.recount', {}), 'UNAUTHORIZED');
      expect((await as(NEW_EXECUTOR).call('tasks.recount', {})).tasks).to.equal(0);
    });

    it('when an RPC token (old or new) creates, lists and reads tasks, then it may', async () => {
      for (const token of [NEW_RPC, OLD_RPC]) {
        const { task } = await as(token).call('tasks.create', { type: 'test.noop', payload: { n: 1 } });
        expect((await as(token).call('tasks.get', { id: task.id })).id).to.equal(task.id);
      }
    });

    it('when an executor token (old or new) registers types and claims tasks, then it may', async () => {
      for (const token of [NEW_EXECUTOR, OLD_EXECUTOR]) {
        expect((await register(as(token))).registered).to.equal(1);
        const { task } = await as(token).call('tasks.create', { type: 'test.noop', payload: { n: 1 } });
        expect(
          (await as(token).call('tasks.claim', { id: task.id, workerId: 'w', leaseMs: 5000 })).status,
        ).to.equal('running');
      }
    });

    it('when a register call sits in a batch with an RPC token, then only that entry is refused', async () => {
      const body = JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'taskTypes.register', params: { workerId: 'x', types: [noopType] } },
        { jsonrpc: '2.0', id: 2, method: 'taskTypes.list', params: {} },
      ]);
      const res = await rawRpc(f.service.url, body, { authorization: `Bearer ${OLD_RPC}` });
      expect(res.status).to.equal(200);
      const [first, second] = res.body as {
        id: number;
        error?: { data?: { type?: string } };
        result?: unknown;
      }[];
      expect(first?.error?.data?.type).to.equal('UNAUTHORIZED');
      expect(second?.result).to.have.property('items');
    });

    it('when a token from neither list is sent, then every method is refused', async () => {
      await rejectsWith(as('a-token-nobody-configured').call('tasks.list', {}), 'UNAUTHORIZED');
      await rejectsWith(register(as('a-token-nobody-configured')), 'UNAUTHORIZED');
      await rejectsWith(as().call('tasks.list', {}), 'UNAUTHORIZED');
    });
  });

  describe('a store restarted with only the new tokens (rotation finished)', () => {
    beforeEach(async () => (f = await startStore({ RPC_TOKEN: NEW_RPC, EXECUTOR_TOKEN: NEW_EXECUTOR })));

    it('when a client still sends an old token, then UNAUTHORIZED; the new ones work', async () => {
      await rejectsWith(as(OLD_RPC).call('tasks.list', {}), 'UNAUTHORIZED');
      await rejectsWith(register(as(OLD_EXECUTOR)), 'UNAUTHORIZED');
      expect((await as(NEW_RPC).call('tasks.list', {})).items).to.deep.equal([]);
      expect((await register(as(NEW_EXECUTOR))).registered).to.equal(1);
    });
  });

  describe('a store with RPC_TOKEN only (a one-token setup on loopback)', () => {
    beforeEach(async () => (f = await startStore({ RPC_TOKEN: NEW_RPC })));

    it('when the RPC token registers a type, then it may (there is no executor token to tell apart)', async () => {
      expect((await register(as(NEW_RPC))).registered).to.equal(1);
    });
  });

  describe('a store without tokens (local mode)', () => {
    beforeEach(async () => (f = await startStore()));

    it('when a caller without a token registers a type, then it may', async () => {
      expect((await register(as())).registered).to.equal(1);
    });
  });
});
