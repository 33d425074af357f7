/**
 * Property-based tests of the task transition table, through the real store over JSON-RPC.
 *
 * (a) Random call sequences on one task are checked, call by call, against a small model whose
 *     status rules come from the contracts TRANSITIONS table (plus each method's own guard:
 *     lease token, due time, attempts left). Refusals must carry the documented error and leave
 *     the stored document exactly as it was.
 * (b) Concurrency: two random calls fired at once on a task in a random state end as one of
 *     their two serial orders would (answers, status, attempts, versions, history); and callers
 *     racing for one transition (two claims, cancel vs complete, ...) have exactly one winner,
 *     the others getting the documented conflict.
 *
 * The store's clock is not faked; "time passes" (a lease expires, a backoff ends) is an outside
 * writer that moves `runAt` / `leaseExpiresAt` into the past. It takes the version's fence and
 * raises the version, as every writer of a task must (docs/consistency.md), so the store's
 * remembered versions can never act on the document from before it.
 *
 * Runs: FC_RUNS overrides numRuns; a failure prints fast-check's seed and path, which
 * FC_SEED / FC_PATH replay (with mocha's --grep naming the failing test).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import type { Db } from 'mongodb';
import {
  ERRORS,
  TASK_STATUSES,
  TERMINAL_STATUSES,
  TRANSITIONS,
  isStoreError,
  type ErrorType,
  type StoreError,
  type Task,
  type TaskSummary,
  type TaskStatus,
} from '@tasks/contracts';
import { runParams } from '../support/fast-check-params.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

const LEASE_MS = 60_000; // never expires by itself during a run; expiry is the "time passes" step

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

interface Model {
  status: TaskStatus;
  attempts: number;
  maxAttempts: number;
  /** Every leaseId the store handed out for this task, oldest first. */
  leases: string[];
  /** running only: the lease's expiry time has passed. */
  expired: boolean;
  /** runAt lies in the future (after a retryable failure's backoff). */
  notDue: boolean;
  /** What ended the current lease (null while it is held or before the first claim). */
  endedBy: LeaseEnd | null;
}

type LeaseEnd = 'complete' | 'fail' | 'release' | 'expiry' | 'cancel';

type LeaseChoice = 'current' | 'previous' | 'bogus';

type Op =
  | { kind: 'claim'; worker: string }
  | { kind: 'heartbeat'; lease: LeaseChoice; progress: number }
  | { kind: 'complete'; lease: LeaseChoice }
  | { kind: 'fail'; lease: LeaseChoice; retryable: boolean }
  | { kind: 'release'; lease: LeaseChoice }
  | { kind: 'cancel' }
  | { kind: 'retry' }
  | { kind: 'requeueExpired' }
  | { kind: 'timePasses' }
  | { kind: 'unknownId'; method: 'tasks.claim' | 'tasks.cancel' | 'tasks.retry' | 'tasks.get' };

type Expected =
  | { outcome: 'refused'; type: ErrorType }
  | { outcome: 'unchanged' }
  | {
      outcome: 'changed';
      status: TaskStatus;
      attempts: number;
      /** The history entry the change appends, or null when history stays as it was. */
      entry: { status: TaskStatus; attempt: number } | null;
      notDue?: boolean;
      expired?: boolean;
      newLease?: boolean;
      /** The change ends the current lease this way. */
      endsLease?: LeaseEnd;
    };

function initialModel(maxAttempts: number): Model {
  return {
    status: 'queued',
    attempts: 0,
    maxAttempts,
    leases: [],
    expired: false,
    notDue: false,
    endedBy: null,
  };
}

/** The model after a change the store made; `lease` is the lease token the task now holds. */
function advance(m: Model, exp: Expected, lease: string | null): void {
  if (exp.outcome !== 'changed') return;
  if (exp.newLease) m.leases.push(lease ?? `lease-${m.leases.length}`);
  if (exp.newLease) m.endedBy = null;
  if (exp.endsLease) m.endedBy = exp.endsLease;
  m.status = exp.status;
  m.attempts = exp.attempts;
  if (exp.notDue !== undefined) m.notDue = exp.notDue;
  m.expired = exp.status === 'running' ? (exp.expired ?? m.expired) : false;
}

const describeModel = (m: Model): string => JSON.stringify({ ...m, leases: m.leases.length });

const allowed = (from: TaskStatus, to: TaskStatus): boolean => TRANSITIONS[from].includes(to);
const currentLease = (m: Model): string | null => m.leases.at(-1) ?? null;
const refused = (type: ErrorType): Expected => ({ outcome: 'refused', type });

/** A call with the task's lease after that lease ended: a replay of what ended it, or refused. */
const afterLeaseEnded = (m: Model, call: LeaseEnd): Expected => {
  if (m.endedBy === call) return { outcome: 'unchanged' };
  return refused('INVALID_TRANSITION');
};

/**
 * What the store must do with `op` on a task in state `m`. Status changes are admitted by the
 * transition table; each method then narrows it (claim only from queued or an expired lease,
 * retry only from failed/cancelled, ...), with the lease checked before the status.
 */
function expectedOutcome(m: Model, op: Op, lease: string | undefined): Expected {
  const s = m.status;
  const a = m.attempts;
  const leaseHeld = lease !== undefined && lease === currentLease(m);
  switch (op.kind) {
    case 'claim': {
      if (!allowed(s, 'running') || (s === 'running' && !m.expired)) return refused('INVALID_TRANSITION');
      if (a >= m.maxAttempts) return refused('INVALID_TRANSITION');
      if (m.notDue) return refused('TASK_NOT_DUE');
      const entry = { status: 'running' as const, attempt: a + 1 };
      return {
        outcome: 'changed',
        status: 'running',
        attempts: a + 1,
        entry,
        expired: false,
        newLease: true,
      };
    }
    case 'heartbeat':
      if (!leaseHeld) return refused('LEASE_LOST');
      if (s !== 'running' || !allowed(s, 'running')) return refused('INVALID_TRANSITION');
      return { outcome: 'changed', status: 'running', attempts: a, entry: null, expired: false };
    case 'complete':
      if (!leaseHeld) return refused('LEASE_LOST');
      if (s === 'succeeded') return { outcome: 'unchanged' }; // replay of the call that succeeded
      if (s !== 'running') return afterLeaseEnded(m, 'complete');
      if (!allowed(s, 'succeeded')) return refused('INVALID_TRANSITION');
      return {
        outcome: 'changed',
        status: 'succeeded',
        attempts: a,
        entry: { status: 'succeeded', attempt: a },
        endsLease: 'complete',
      };
    case 'fail': {
      if (!leaseHeld) return refused('LEASE_LOST');
      if (s !== 'running') return afterLeaseEnded(m, 'fail');
      const to: TaskStatus = op.retryable && a < m.maxAttempts ? 'queued' : 'failed';
      if (!allowed(s, to)) return refused('INVALID_TRANSITION');
      return {
        outcome: 'changed',
        status: to,
        attempts: a,
        entry: { status: to, attempt: a },
        notDue: to === 'queued',
        endsLease: 'fail',
      };
    }
    case 'release':
      if (!leaseHeld) return refused('LEASE_LOST');
      if (s !== 'running') return afterLeaseEnded(m, 'release');
      if (!allowed(s, 'queued')) return refused('INVALID_TRANSITION');
      return {
        outcome: 'changed',
        status: 'queued',
        attempts: Math.max(0, a - 1),
        entry: { status: 'queued', attempt: a },
        notDue: false,
        endsLease: 'release',
      };
    case 'cancel':
      if (!allowed(s, 'cancelled')) return refused('INVALID_TRANSITION');
      return {
        outcome: 'changed',
        status: 'cancelled',
        attempts: a,
        entry: { status: 'cancelled', attempt: a },
        ...(s === 'running' && { endsLease: 'cancel' as const }),
      };
    case 'retry':
      if ((s !== 'failed' && s !== 'cancelled') || !allowed(s, 'queued'))
        return refused('INVALID_TRANSITION');
      return {
        outcome: 'changed',
        status: 'queued',
        attempts: 0,
        entry: { status: 'queued', attempt: 0 },
        notDue: false,
      };
    case 'requeueExpired': {
      if (s !== 'running' || !m.expired) return { outcome: 'unchanged' };
      const to: TaskStatus = a < m.maxAttempts ? 'queued' : 'failed';
      if (!allowed(s, to)) return { outcome: 'unchanged' };
      return {
        outcome: 'changed',
        status: to,
        attempts: a,
        entry: { status: to, attempt: a },
        notDue: false,
        endsLease: 'expiry',
      };
    }
    case 'timePasses':
      if (!m.notDue && !(s === 'running' && !m.expired)) return { outcome: 'unchanged' };
      return {
        outcome: 'changed',
        status: s,
        attempts: a,
        entry: null,
        notDue: false,
        expired: s === 'running',
      };
    case 'unknownId':
      return refused('TASK_NOT_FOUND');
  }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const leaseArb: fc.Arbitrary<LeaseChoice> = fc.oneof(
  { arbitrary: fc.constant('current' as const), weight: 6 },
  { arbitrary: fc.constantFrom('previous' as const, 'bogus' as const), weight: 1 },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('claim' as const), worker: fc.constantFrom('w1', 'w2') }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('heartbeat' as const),
      lease: leaseArb,
      progress: fc.integer({ min: 0, max: 100 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('complete' as const), lease: leaseArb }), weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constant('fail' as const), lease: leaseArb, retryable: fc.boolean() }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('release' as const), lease: leaseArb }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'cancel' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'retry' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'requeueExpired' as const }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'timePasses' as const }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant('unknownId' as const),
      method: fc.constantFrom(
        'tasks.claim' as const,
        'tasks.cancel' as const,
        'tasks.retry' as const,
        'tasks.get' as const,
      ),
    }),
    weight: 1,
  },
);

/** Share of steps steered (see walk). */
const STEER_PERCENT = 60;

/**
 * Random ops alone rarely get deep (a retryable failure and a claim before its backoff ends, a
 * re-claim of an expired lease): a steered step is replaced by an op that moves the task on from
 * the state the model predicts at that point (or, in a backoff, tries to). Fake lease tokens
 * stand in for the store's, which only matters to tell "current" from the others.
 */
function walk(maxAttempts: number, steps: { op: Op; steer: number }[]): Op[] {
  const m = initialModel(maxAttempts);
  return steps.map(({ op: random, steer }) => {
    let op = random;
    if (steer < STEER_PERCENT) {
      const running: Op[] = m.expired
        ? [
            { kind: 'claim', worker: 'w3' },
            { kind: 'requeueExpired' },
            { kind: 'complete', lease: 'current' },
          ]
        : [
            { kind: 'complete', lease: 'current' },
            { kind: 'fail', lease: 'current', retryable: Math.floor(steer / 7) % 2 === 0 },
            { kind: 'heartbeat', lease: 'current', progress: steer },
            { kind: 'timePasses' },
            { kind: 'timePasses' },
            { kind: 'release', lease: 'current' },
            { kind: 'cancel' },
          ];
      const candidates: Record<TaskStatus, Op[]> = {
        queued: m.notDue
          ? [{ kind: 'claim', worker: 'w1' }, { kind: 'timePasses' }]
          : [{ kind: 'claim', worker: 'w1' }],
        running,
        failed: [{ kind: 'retry' }],
        cancelled: [{ kind: 'retry' }],
        succeeded: [random],
        waiting: [random], // flow nodes only (flows.property.test.ts); a lone task never waits
      };
      const list = candidates[m.status];
      op = list[steer % list.length]!;
    }
    const current = currentLease(m);
    const lease =
      'lease' in op
        ? op.lease === 'current' && current !== null
          ? current
          : `other-${m.leases.length}`
        : undefined;
    advance(m, expectedOutcome(m, op, lease), null);
    return op;
  });
}

const sequenceArb = fc
  .tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.array(fc.record({ op: opArb, steer: fc.integer({ min: 0, max: 99 }) }), {
      minLength: 1,
      maxLength: 16,
      size: 'max',
    }),
  )
  .map(([maxAttempts, steps]) => ({ maxAttempts, ops: walk(maxAttempts, steps) }));

/** Calls that can race: every store method that changes one task, with any lease. */
const raceOpArb: fc.Arbitrary<Op> = opArb.filter((op) => op.kind !== 'timePasses' && op.kind !== 'unknownId');

/** A task brought into some state by a steered sequence, then two calls fired at it at once. */
const raceArb = fc
  .tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.array(fc.record({ op: opArb, steer: fc.integer({ min: 0, max: 99 }) }), { maxLength: 6, size: 'max' }),
    fc.tuple(raceOpArb, raceOpArb),
  )
  .map(([maxAttempts, steps, race]) => ({ maxAttempts, prefix: walk(maxAttempts, steps), race }));

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Settled<T> = { ok: true; value: T } | { ok: false; err: StoreError };

async function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    if (!isStoreError(err)) throw err; // a transport failure or a bug in the test, not a refusal
    return { ok: false, err };
  }
}

/** Asserts a refusal is the documented error of the table: its type, its JSON-RPC code, a message. */
function expectDocumentedError(
  err: StoreError,
  type: ErrorType,
  status: TaskStatus | undefined,
  what: string,
): void {
  expect(err.type, `${what}: ${err.message}`).to.equal(type);
  expect(err.code, what).to.equal(ERRORS[type].code);
  expect(err.data?.type, what).to.equal(type);
  expect(err.message, what).to.be.a('string').and.not.equal('');
  if (status !== undefined) expect(err.data?.status, what).to.equal(status);
}

/**
 * Moves the task's clock forward: a future runAt and a live lease's expiry are set 1 s in the
 * past, as another writer would, through the version's fence and with the version raised.
 */
async function timePasses(db: Db, id: string): Promise<boolean> {
  const tasks = db.collection<{ _id: string; version: number; runAt: Date; leaseExpiresAt: Date | null }>(
    'tasks',
  );
  const doc = await tasks.findOne({ _id: id });
  if (!doc) throw new Error(`no task ${id}`);
  const now = Date.now();
  const past = new Date(now - 1_000);
  const set: Record<string, unknown> = {};
  if (doc.runAt.getTime() > now) set.runAt = past;
  if (doc.leaseExpiresAt && doc.leaseExpiresAt.getTime() > now) set.leaseExpiresAt = past;
  if (Object.keys(set).length === 0) return false;
  const at = new Date(now);
  Object.assign(set, { version: doc.version + 1, updatedAt: at });
  await db
    .collection<{ _id: string; taskId: string; version: number; set: object; at: Date }>('task_fences')
    .insertOne({ _id: `${id}:${doc.version}`, taskId: id, version: doc.version, set, at });
  const r = await tasks.updateOne({ _id: id, version: doc.version }, { $set: set });
  expect(r.matchedCount, 'time travel raced a store write').to.equal(1);
  return true;
}

/** Invariants of any stored task, whatever call came before. */
function checkTask(t: Task, what: string): void {
  expect(TASK_STATUSES, what).to.include(t.status);
  const running = t.status === 'running';
  expect(t.leaseOwner !== null, `${what}: leaseOwner set iff running`).to.equal(running);
  expect(t.leaseExpiresAt !== null, `${what}: leaseExpiresAt set iff running`).to.equal(running);
  expect(t.attempts, what).to.be.within(running ? 1 : 0, t.maxAttempts);
  const statuses = t.history.map((h) => h.status);
  expect(statuses[0], `${what}: history starts queued`).to.equal('queued');
  expect(
    statuses.filter((s) => s === 'succeeded'),
    `${what}: at most one success`,
  ).to.have.length.at.most(1);
  for (let i = 1; i < t.history.length; i++) {
    const [prev, next] = [t.history[i - 1]!, t.history[i]!];
    expect(allowed(prev.status, next.status), `${what}: history ${prev.status}→${next.status}`).to.equal(
      true,
    );
    expect(Date.parse(next.at), `${what}: history in time order`).to.be.at.least(Date.parse(prev.at));
  }
  expect(statuses.at(-1), `${what}: last history entry is the status`).to.equal(t.status);
  expect(t.version, `${what}: a version per change`).to.be.at.least(t.history.length);
}

function describeOp(op: Op): string {
  return JSON.stringify(op);
}

// ---------------------------------------------------------------------------------------------
// (a) sequences against the model
// ---------------------------------------------------------------------------------------------

describe('task transitions, property-based (integration)', function () {
  this.timeout(120_000);
  let f: StoreFixture;
  before(async () => (f = await startStore()));
  after(() => f.close());

  const get = (id: string) => f.client.call('tasks.get', { id });

  /** Runs `op` and returns the task the call answered with, if it answers with one. */
  async function perform(
    id: string,
    op: Op,
    lease: string | undefined,
  ): Promise<Task | { items: TaskSummary[] } | boolean> {
    const c = f.client;
    switch (op.kind) {
      case 'claim':
        return c.call('tasks.claim', { id, workerId: op.worker, leaseMs: LEASE_MS });
      case 'heartbeat':
        return c.call('tasks.heartbeat', { id, leaseId: lease!, leaseMs: LEASE_MS, progress: op.progress });
      case 'complete':
        return c.call('tasks.complete', { id, leaseId: lease!, result: { by: lease } });
      case 'fail':
        return c.call('tasks.fail', {
          id,
          leaseId: lease!,
          error: { code: 'E_TEST', message: 'property test', retryable: op.retryable },
        });
      case 'release':
        return c.call('tasks.release', { id, leaseId: lease!, reason: 'property test' });
      case 'cancel':
        return c.call('tasks.cancel', { id, by: 'property', reason: 'property test' });
      case 'retry':
        return c.call('tasks.retry', { id, by: 'property' });
      case 'requeueExpired':
        return c.call('tasks.requeueExpired', { by: 'property-sweeper' });
      case 'timePasses':
        return timePasses(f.db, id);
      case 'unknownId': {
        const missing = `missing-${randomUUID()}`;
        if (op.method === 'tasks.claim')
          return c.call(op.method, { id: missing, workerId: 'w', leaseMs: LEASE_MS });
        return c.call(op.method, { id: missing });
      }
    }
  }

  function pickLease(m: Model, op: Op): string | undefined {
    if (!('lease' in op)) return undefined;
    const current = currentLease(m);
    if (op.lease === 'current' && current !== null) return current;
    if (op.lease === 'previous' && m.leases.length >= 2) return m.leases.at(-2);
    return randomUUID();
  }

  /** Lets the real clock end a backoff (≥ 500 ms) only outside the window where store and model could disagree. */
  async function syncClock(id: string, m: Model, what: string): Promise<Task> {
    const before = await get(id);
    if (!m.notDue) {
      expect(Date.parse(before.runAt), `${what}: model says due`).to.be.at.most(Date.now());
      return before;
    }
    const left = Date.parse(before.runAt) - Date.now();
    if (left >= 400) return before;
    if (left > -50) await new Promise((r) => setTimeout(r, left + 50));
    m.notDue = false;
    return get(id);
  }

  async function newTask(maxAttempts: number): Promise<{ id: string; m: Model }> {
    const { task } = await f.client.call('tasks.create', {
      type: 'test.noop',
      payload: { n: 0 },
      maxAttempts,
    });
    checkTask(task, 'created');
    return { id: task.id, m: initialModel(maxAttempts) };
  }

  /** Runs one op on the task, checks the answer and the stored task against the model, and advances it. */
  async function checkedStep(id: string, m: Model, op: Op, what: string): Promise<void> {
    const before = await syncClock(id, m, what);
    const lease = pickLease(m, op);
    const exp = expectedOutcome(m, op, lease);
    const res = await settle(perform(id, op, lease));
    const after = await get(id);
    checkTask(after, what);

    // Status changes stay inside the table; a terminal status moves only by retry.
    if (after.status !== before.status) {
      expect(allowed(before.status, after.status), `${what}: ${before.status}→${after.status}`).to.equal(
        true,
      );
      if (TERMINAL_STATUSES.includes(before.status)) expect(op.kind, what).to.equal('retry');
    }
    expect(after.version, `${what}: version never goes back`).to.be.at.least(before.version);

    if (exp.outcome === 'refused') {
      if (res.ok) expect.fail(`${what}: expected ${exp.type}, got ${JSON.stringify(res.value)}`);
      expectDocumentedError(res.err, exp.type, op.kind === 'unknownId' ? undefined : before.status, what);
      expect(after, `${what}: a refusal changes nothing`).to.deep.equal(before);
      return;
    }
    if (!res.ok) expect.fail(`${what}: expected success, got ${res.err.type} ${res.err.message}`);

    if (op.kind === 'requeueExpired') {
      const mine = (res.value as { items: TaskSummary[] }).items.filter((t) => t.id === id);
      expect(mine, `${what}: swept iff expired`).to.have.length(exp.outcome === 'changed' ? 1 : 0);
      // The sweep answers summaries: the stored task without payload, result and history.
      const summary: Partial<Task> = { ...after };
      delete summary.payload;
      delete summary.result;
      delete summary.history;
      if (mine[0]) expect(mine[0], what).to.deep.equal(summary);
    } else if (op.kind === 'timePasses') {
      expect(res.value, what).to.equal(exp.outcome === 'changed');
    } else {
      // The answer is what was stored (also for a replay, which answers the current task).
      expect(res.value, `${what}: answer equals stored task`).to.deep.equal(after);
    }

    if (exp.outcome === 'unchanged') {
      expect(after, `${what}: nothing changes`).to.deep.equal(before);
      return;
    }
    expect(after.version, `${what}: one change, one version`).to.equal(before.version + 1);
    expect(after.status, what).to.equal(exp.status);
    expect(after.attempts, what).to.equal(exp.attempts);
    if (exp.entry) {
      expect(after.history.slice(0, -1), `${what}: history only appended`).to.deep.equal(before.history);
      expect(after.history.at(-1), what).to.include(exp.entry);
    } else {
      expect(after.history, `${what}: history unchanged`).to.deep.equal(before.history);
    }
    if (exp.newLease) {
      expect(after.leaseId, `${what}: a fresh lease`).to.be.a('string');
      expect(m.leases, `${what}: a fresh lease`).not.to.include(after.leaseId);
    } else {
      expect(after.leaseId, `${what}: lease token kept`).to.equal(currentLease(m));
    }
    if (op.kind === 'heartbeat') expect(after.progress, what).to.equal(op.progress);
    if (op.kind === 'complete') expect(after.result, what).to.deep.equal({ by: lease });
    if (exp.status === 'queued' && before.status !== 'queued') {
      // Re-entering queued needs publishing again: the outbox holds this version.
      const entry = await f.db
        .collection<{ _id: string }>('task_outbox')
        .findOne({ _id: `${id}:${after.version}` });
      expect(entry, `${what}: outbox entry for the queued version`).not.to.equal(null);
    }
    advance(m, exp, after.leaseId);
  }

  it('when random call sequences run on a task, then every answer and stored state matches the transition-table model', async () => {
    await fc.assert(
      fc.asyncProperty(sequenceArb, async ({ maxAttempts, ops }) => {
        const { id, m } = await newTask(maxAttempts);
        for (const [i, op] of ops.entries()) {
          await checkedStep(id, m, op, `step ${i} ${describeOp(op)} on ${describeModel(m)}`);
        }
      }),
      runParams(40),
    );
  });

  // -------------------------------------------------------------------------------------------
  // (b) concurrency: any two calls behave as one of their two serial orders
  // -------------------------------------------------------------------------------------------

  /** How a call ended, in the model's terms. */
  function outcomeName(op: Op, exp: Expected): string {
    if (exp.outcome === 'refused') return `refused ${exp.type}`;
    if (op.kind === 'requeueExpired') return exp.outcome === 'changed' ? 'swept' : 'passed by';
    return 'ok';
  }

  it('when two random calls race on a task in a random state, then the outcome is one of their serial orders', async () => {
    await fc.assert(
      fc.asyncProperty(raceArb, async ({ maxAttempts, prefix, race }) => {
        const { id, m } = await newTask(maxAttempts);
        for (const [i, op] of prefix.entries()) {
          await checkedStep(id, m, op, `prefix ${i} ${describeOp(op)} on ${describeModel(m)}`);
        }
        const before = await syncClock(id, m, 'race');
        const leases = race.map((op) => pickLease(m, op));
        const results = await Promise.all(race.map((op, i) => settle(perform(id, op, leases[i]))));
        const after = await get(id);
        const what = `race ${race.map(describeOp).join(' | ')} on ${describeModel(m)}`;
        checkTask(after, what);

        const observed = results.map((r, i) => {
          if (!r.ok) {
            expect(r.err.code, `${what}: documented code`).to.equal(ERRORS[r.err.type].code);
            return `refused ${r.err.type}`;
          }
          if (race[i]!.kind !== 'requeueExpired') return 'ok';
          return (r.value as { items: TaskSummary[] }).items.some((t) => t.id === id) ? 'swept' : 'passed by';
        });
        const serial = [
          [0, 1],
          [1, 0],
        ].map((order) => {
          const mc: Model = { ...m, leases: [...m.leases] };
          const outcomes: string[] = [];
          let changes = 0;
          let entries = 0;
          for (const i of order) {
            const exp = expectedOutcome(mc, race[i]!, leases[i]);
            outcomes[i] = outcomeName(race[i]!, exp);
            if (exp.outcome === 'changed') {
              changes++;
              if (exp.entry) entries++;
            }
            advance(mc, exp, `lease-of-call-${i}`);
          }
          return {
            outcomes,
            status: mc.status,
            attempts: mc.attempts,
            version: before.version + changes,
            historyLength: before.history.length + entries,
          };
        });
        const actual = {
          outcomes: observed,
          status: after.status,
          attempts: after.attempts,
          version: after.version,
          historyLength: after.history.length,
        };
        expect(
          serial,
          `${what}: observed ${JSON.stringify(actual)}, serial orders give ${JSON.stringify(serial)}`,
        ).to.deep.include(actual);
        expect(after.history.slice(0, before.history.length), `${what}: history only appended`).to.deep.equal(
          before.history,
        );
      }),
      runParams(40),
    );
  });

  // -------------------------------------------------------------------------------------------
  // (b) concurrency: callers of one transition, one winner
  // -------------------------------------------------------------------------------------------

  type Scenario =
    | 'claim'
    | 'reclaim-expired'
    | 'cancel'
    | 'retry'
    | 'cancel-vs-complete'
    | 'complete-vs-fail'
    | 'late-complete-vs-reclaim'
    | 'requeue-vs-complete'
    | 'complete-replay';

  const scenarioArb = fc.record({
    scenario: fc.constantFrom<Scenario>(
      'claim',
      'reclaim-expired',
      'cancel',
      'retry',
      'cancel-vs-complete',
      'complete-vs-fail',
      'late-complete-vs-reclaim',
      'requeue-vs-complete',
      'complete-replay',
    ),
    callers: fc.integer({ min: 2, max: 4 }),
    flag: fc.boolean(), // cancel: on a running task; retry: of a cancelled task; fail: retryable
  });

  it('when callers race for one transition, then exactly one wins and the others get the documented conflict', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ scenario, callers, flag }) => {
        const c = f.client;
        const what = `${scenario} x${callers} flag=${flag}`;
        const { task } = await c.call('tasks.create', {
          type: 'test.noop',
          payload: { n: 1 },
          maxAttempts: 3,
        });
        const id = task.id;
        const claim = (workerId: string) => c.call('tasks.claim', { id, workerId, leaseMs: LEASE_MS });
        const complete = (leaseId: string) => c.call('tasks.complete', { id, leaseId, result: leaseId });
        const fail = (leaseId: string, retryable: boolean) =>
          c.call('tasks.fail', { id, leaseId, error: { code: 'E', message: 'race', retryable } });
        const cancel = () => c.call('tasks.cancel', { id, by: 'racer' });

        // Each racer says which documented error it gets when it loses.
        let racers: { call: () => Promise<unknown>; loses: ErrorType }[];
        let winnerStatus: (winner: number) => TaskStatus;
        switch (scenario) {
          case 'claim':
            racers = Array.from({ length: callers }, (_, i) => ({
              call: () => claim(`w${i}`),
              loses: 'INVALID_TRANSITION',
            }));
            winnerStatus = () => 'running';
            break;
          case 'reclaim-expired':
            await claim('gone');
            await timePasses(f.db, id);
            racers = Array.from({ length: callers }, (_, i) => ({
              call: () => claim(`w${i}`),
              loses: 'INVALID_TRANSITION',
            }));
            winnerStatus = () => 'running';
            break;
          case 'cancel':
            if (flag) await claim('w');
            racers = Array.from({ length: callers }, () => ({ call: cancel, loses: 'INVALID_TRANSITION' }));
            winnerStatus = () => 'cancelled';
            break;
          case 'retry': {
            const r = await claim('w');
            if (flag) await cancel();
            else await fail(r.leaseId!, false);
            racers = Array.from({ length: callers }, () => ({
              call: () => c.call('tasks.retry', { id, by: 'racer' }),
              loses: 'INVALID_TRANSITION',
            }));
            winnerStatus = () => 'queued';
            break;
          }
          case 'cancel-vs-complete': {
            const r = await claim('w');
            racers = [
              { call: cancel, loses: 'INVALID_TRANSITION' },
              { call: () => complete(r.leaseId!), loses: 'INVALID_TRANSITION' },
            ];
            winnerStatus = (w) => (w === 0 ? 'cancelled' : 'succeeded');
            break;
          }
          case 'complete-vs-fail': {
            const r = await claim('w');
            racers = [
              // The loser's lease was ended by the other call: a conflict, not a replay.
              { call: () => complete(r.leaseId!), loses: 'INVALID_TRANSITION' },
              { call: () => fail(r.leaseId!, flag), loses: 'INVALID_TRANSITION' },
            ];
            winnerStatus = (w) => (w === 0 ? 'succeeded' : flag ? 'queued' : 'failed');
            break;
          }
          case 'late-complete-vs-reclaim': {
            const r = await claim('slow');
            await timePasses(f.db, id);
            racers = [
              { call: () => complete(r.leaseId!), loses: 'LEASE_LOST' },
              { call: () => claim('fast'), loses: 'INVALID_TRANSITION' },
            ];
            winnerStatus = (w) => (w === 0 ? 'succeeded' : 'running');
            break;
          }
          case 'requeue-vs-complete': {
            const r = await claim('slow');
            await timePasses(f.db, id);
            racers = [
              { call: () => complete(r.leaseId!), loses: 'INVALID_TRANSITION' },
              {
                // The sweep "wins" when it moved this task; losing, it just passes it by.
                call: async () => {
                  const { items } = await c.call('tasks.requeueExpired', { by: 'racer' });
                  if (!items.some((t) => t.id === id))
                    throw Object.assign(new Error('not swept'), { notSwept: true });
                },
                loses: 'INVALID_TRANSITION',
              },
            ];
            winnerStatus = (w) => (w === 0 ? 'succeeded' : 'queued');
            break;
          }
          case 'complete-replay': {
            // Same lease, same result: one applies the change, the others are answered as replays.
            const r = await claim('w');
            const before = await c.call('tasks.get', { id });
            const answers = await Promise.all(Array.from({ length: callers }, () => complete(r.leaseId!)));
            const stored = await c.call('tasks.get', { id });
            checkTask(stored, what);
            expect(stored).to.include({ status: 'succeeded', version: before.version + 1 });
            for (const a of answers) expect(a, what).to.deep.equal(stored);
            expect(
              stored.history.filter((h) => h.status === 'succeeded'),
              what,
            ).to.have.length(1);
            return;
          }
        }

        const before = await c.call('tasks.get', { id });
        const outcomes = await Promise.all(
          racers.map(async (r) => {
            try {
              await r.call();
              return { ok: true as const };
            } catch (err) {
              if ((err as { notSwept?: boolean }).notSwept) return { ok: false as const, err: undefined };
              if (!isStoreError(err)) throw err;
              return { ok: false as const, err };
            }
          }),
        );
        const winners = outcomes.flatMap((o, i) => (o.ok ? [i] : []));
        expect(winners, `${what}: exactly one winner`).to.have.length(1);
        const winner = winners[0]!;
        const stored = await c.call('tasks.get', { id });
        checkTask(stored, what);
        for (const [i, o] of outcomes.entries()) {
          if (o.ok || o.err === undefined) continue;
          expectDocumentedError(o.err, racers[i]!.loses, undefined, `${what}: racer ${i}`);
          // The loser is told the status the winner left.
          expect(o.err.data?.status, `${what}: racer ${i}`).to.equal(stored.status);
        }
        expect(stored.status, what).to.equal(winnerStatus(winner));
        expect(stored.version, `${what}: one change applied`).to.equal(before.version + 1);
        expect(stored.history.slice(0, -1), `${what}: one history entry`).to.deep.equal(before.history);
        expect(stored.history.filter((h) => h.status === 'succeeded')).to.have.length.at.most(1);
      }),
      runParams(30),
    );
  });
});
