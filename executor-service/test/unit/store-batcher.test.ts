/** StoreBatcher against an in-memory stand-in for the store client: no I/O. */
import { expect } from 'chai';
import pino from 'pino';
import {
  ERRORS,
  isStoreError,
  StoreError,
  type BatchCall,
  type BatchResult,
  type ErrorType,
} from '@tasks/contracts';
import { createMetrics } from '../../src/metrics.js';
import { StoreBatcher } from '../../src/store-batcher.js';
import { untilRecorded } from '../../src/store-calls.js';

/** Answers each batch with `answer`, records what was sent (as batches and as single calls). */
class RecordingStore {
  readonly batches: BatchCall[][] = [];
  readonly singles: BatchCall[] = [];
  constructor(private readonly answer: (call: BatchCall, sent: number) => BatchResult | Error) {}

  batch(calls: BatchCall[]): Promise<BatchResult[]> {
    this.batches.push(calls);
    const answers = calls.map((c) => this.answer(c, this.batches.length));
    const whole = answers.find((a): a is Error => a instanceof Error);
    return whole ? Promise.reject(whole) : Promise.resolve(answers as BatchResult[]);
  }

  call(method: string, params: unknown): Promise<never> {
    this.singles.push({ method, params } as BatchCall);
    const answer = this.answer({ method, params } as BatchCall, 0);
    if (answer instanceof Error) return Promise.reject(answer);
    return answer.ok ? Promise.resolve(answer.result as never) : Promise.reject(answer.error);
  }
}

const storeError = (type: ErrorType, transport = false) =>
  new StoreError(ERRORS[type].code, type, { type }, transport);
const idOf = (c: BatchCall) => (c.params as { id: string }).id;
const echo = (c: BatchCall): BatchResult => ({ ok: true, result: { id: idOf(c) } });
const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

describe('StoreBatcher (unit)', () => {
  it('when calls arrive within the window, then they go out as one batch and each gets its own result', async () => {
    const store = new RecordingStore(echo);
    const batcher = new StoreBatcher(store, { windowMs: 5, maxCalls: 10 });
    const results = await Promise.all(['a', 'b', 'c'].map((id) => batcher.call('tasks.get', { id })));
    expect(results.map((r) => r.id)).to.deep.equal(['a', 'b', 'c']);
    expect(store.batches.map((b) => b.map(idOf))).to.deep.equal([['a', 'b', 'c']]);
  });

  it('when maxCalls calls are waiting, then the batch goes at once, without waiting for the window', () => {
    const store = new RecordingStore(echo);
    const batcher = new StoreBatcher(store, { windowMs: 3_600_000, maxCalls: 2 });
    void batcher.call('tasks.get', { id: 'a' });
    expect(store.batches).to.have.length(0);
    void batcher.call('tasks.get', { id: 'b' });
    expect(store.batches.map((b) => b.map(idOf))).to.deep.equal([['a', 'b']]);
    void batcher.call('tasks.get', { id: 'c' });
    void batcher.call('tasks.get', { id: 'd' });
    expect(store.batches.map((b) => b.map(idOf))).to.deep.equal([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('when the window is 0, then every call goes out on its own, not as a batch', async () => {
    const store = new RecordingStore(echo);
    const batcher = new StoreBatcher(store, { windowMs: 0, maxCalls: 10 });
    await Promise.all(['a', 'b'].map((id) => batcher.call('tasks.get', { id })));
    expect(store.batches).to.have.length(0);
    expect(store.singles.map(idOf)).to.deep.equal(['a', 'b']);
  });

  it('when one call of a batch is refused, then only that call fails, with its own error type', async () => {
    const store = new RecordingStore((c) =>
      idOf(c) === 'b' ? { ok: false, error: storeError('INVALID_TRANSITION') } : echo(c),
    );
    const batcher = new StoreBatcher(store, { windowMs: 5, maxCalls: 10 });
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map((id) => settle(batcher.call('tasks.get', { id }))),
    );
    expect(a).to.deep.equal({ value: { id: 'a' } });
    expect(isStoreError((b as { error: unknown }).error, 'INVALID_TRANSITION')).to.equal(true);
    expect(c).to.deep.equal({ value: { id: 'c' } });
  });

  it('when the request fails as a whole with an error that can pass, then every call in it gets that error', async () => {
    const store = new RecordingStore(() => storeError('DEPENDENCY_UNAVAILABLE', true));
    const batcher = new StoreBatcher(store, { windowMs: 5, maxCalls: 10 });
    const outcomes = await Promise.all(['a', 'b'].map((id) => settle(batcher.call('tasks.get', { id }))));
    for (const o of outcomes)
      expect(isStoreError((o as { error: unknown }).error, 'DEPENDENCY_UNAVAILABLE')).to.equal(true);
    expect(store.batches).to.have.length(1);
    expect(store.singles).to.have.length(0);
  });

  it('when the request is refused as a whole before any call ran (too large), then each call is sent alone and gets its own answer', async () => {
    const store = new RecordingStore((c, sent) =>
      sent > 0
        ? storeError('PAYLOAD_TOO_LARGE')
        : idOf(c) === 'big'
          ? storeError('PAYLOAD_TOO_LARGE')
          : echo(c),
    );
    const batcher = new StoreBatcher(store, { windowMs: 5, maxCalls: 10 });
    const [small, big] = await Promise.all(
      ['small', 'big'].map((id) => settle(batcher.call('tasks.get', { id }))),
    );
    expect(small).to.deep.equal({ value: { id: 'small' } });
    expect(isStoreError((big as { error: unknown }).error, 'PAYLOAD_TOO_LARGE')).to.equal(true);
    expect(store.singles.map(idOf)).to.deep.equal(['small', 'big']);
  });

  it('when one call of a batch fails with an error that can pass, then untilRecorded repeats that call alone, not the others', async () => {
    let failuresLeft = 1;
    const store = new RecordingStore((c) => {
      if (idOf(c) === 'b' && failuresLeft > 0) {
        failuresLeft--;
        return { ok: false, error: storeError('BUSY') };
      }
      return echo(c);
    });
    const batcher = new StoreBatcher(store, { windowMs: 5, maxCalls: 10 });
    const opts = { log: pino({ level: 'silent' }), metrics: createMetrics(), keepTrying: () => true };
    const results = await Promise.all(
      ['a', 'b', 'c'].map((id) => untilRecorded(batcher, 'tasks.get', { id }, opts)),
    );
    expect(results.map((r) => r.id)).to.deep.equal(['a', 'b', 'c']);
    expect(store.batches.map((b) => b.map(idOf))).to.deep.equal([['a', 'b', 'c'], ['b']]);
  });
});
