import { expect } from 'chai';
import type { Task } from '@tasks/contracts';
import { workersFrom, WORKER_WINDOW_MS } from '../../src/routes/operations.js';

const NOW = Date.parse('2026-01-01T12:00:00.000Z');
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();

function task(id: string, over: Partial<Task>): Task {
  return {
    id,
    type: 'sleep',
    kind: 'io',
    payload: {},
    status: 'queued',
    priority: 0,
    attempts: 0,
    maxAttempts: 3,
    timeoutMs: 1000,
    runAt: iso(0),
    idempotencyKey: null,
    result: null,
    error: null,
    progress: null,
    progressMessage: null,
    leaseOwner: null,
    leaseId: null,
    leaseExpiresAt: null,
    createdAt: iso(60_000),
    updatedAt: iso(1_000),
    startedAt: null,
    finishedAt: null,
    history: [],
    version: 1,
    ...over,
  };
}

describe('workers view', () => {
  it('when tasks run and others finished, then each worker is listed once with what it runs', () => {
    const running = [
      task('a', { status: 'running', leaseOwner: 'w1', updatedAt: iso(2_000), startedAt: iso(3_000) }),
      task('b', { status: 'running', leaseOwner: 'w1', updatedAt: iso(1_000) }),
    ];
    const recent = [
      task('c', {
        status: 'succeeded',
        history: [
          { status: 'queued', at: iso(9_000), by: 'create', attempt: 0 },
          { status: 'running', at: iso(8_000), by: 'w2', attempt: 1 },
          { status: 'succeeded', at: iso(7_000), by: 'w2', attempt: 1 },
        ],
      }),
      task('d', {
        status: 'cancelled',
        history: [
          { status: 'running', at: iso(WORKER_WINDOW_MS + 1_000), by: 'w-old', attempt: 1 },
          { status: 'cancelled', at: iso(500), by: 'api', attempt: 1 },
        ],
      }),
    ];
    const workers = workersFrom(running, [...running, ...recent], NOW);
    expect(workers.map((w) => w.id)).to.deep.equal(['w1', 'w2']);
    expect(workers[0]!.running.map((r) => r.taskId)).to.deep.equal(['a', 'b']);
    expect(workers[0]!.lastSeen).to.equal(iso(1_000));
    expect(workers[1]).to.deep.include({ lastSeen: iso(7_000), running: [] });
  });
});
