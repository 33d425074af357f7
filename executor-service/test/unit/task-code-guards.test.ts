import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import pino from 'pino';
import { crashScope, newCrashScope } from '../../src/task-code/crash-scope.js';
import { installCrashGuard } from '../../src/task-code/crash-guard.js';
import { toJsonResult } from '../../src/task-code/json-result.js';
import { checkProgress, MAX_PROGRESS_MESSAGE } from '../../src/task-code/progress-input.js';
import { MAX_ERROR_MESSAGE, toTaskError } from '../../src/task-code/thrown-value.js';

describe('task code guards (unit)', () => {
  describe('checkProgress', () => {
    it('when the message is a number, then it is sent as a string with a warning', () => {
      expect(checkProgress(10, 42)).to.deep.include({ progress: { percent: 10, message: '42' } });
      expect(checkProgress(10, 42).warning).to.be.a('string');
    });

    it('when percent is out of range or a numeric string, then it is clamped to 0..100', () => {
      expect(checkProgress(150).progress).to.deep.equal({ percent: 100 });
      expect(checkProgress(-1).progress).to.deep.equal({ percent: 0 });
      expect(checkProgress('55.5').progress).to.deep.equal({ percent: 55.5 });
    });

    it('when percent is not a finite number, then the call is ignored with a warning', () => {
      for (const p of [Number.NaN, Infinity, 'abc', '', null, undefined, {}, Symbol('x'), 10n]) {
        const r = checkProgress(p, 'm');
        expect(r.progress, String(typeof p)).to.equal(undefined);
        expect(r.warning).to.be.a('string');
      }
    });

    it('when the message is an object, a symbol or a function, then it is dropped; a long one is capped', () => {
      const throwing = {
        toString() {
          throw new Error('no');
        },
      };
      for (const m of [throwing, Symbol('s'), () => 'f', [1]])
        expect(checkProgress(5, m).progress).to.deep.equal({ percent: 5 });
      const long = checkProgress(5, 'x'.repeat(10_000)).progress!.message!;
      expect(long).to.have.length(MAX_PROGRESS_MESSAGE);
    });

    it('when a cap cuts a surrogate pair, then no lone half is left', () => {
      const text = 'a'.repeat(MAX_PROGRESS_MESSAGE - 2) + '😀😀';
      const message = checkProgress(1, text).progress!.message!;
      expect(message).to.not.match(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    });

    it('when the values are right, then no warning is given', () => {
      expect(checkProgress(30, 'ok')).to.deep.equal({ progress: { percent: 30, message: 'ok' } });
    });
  });

  describe('toTaskError', () => {
    it('when task code throws a primitive, then the error is NON_ERROR_THROWN with a string message', () => {
      for (const v of ['boom', 42, null, undefined, true, Symbol('s'), 5n]) {
        const e = toTaskError(v);
        expect(e.code).to.equal('NON_ERROR_THROWN');
        expect(e.message).to.be.a('string');
        expect(e.retryable).to.equal(true);
      }
    });

    it('when an Error carries a code and retryable: false, then both are kept', () => {
      const err = Object.assign(new Error('nope'), { code: 'MY_CODE', retryable: false });
      expect(toTaskError(err)).to.deep.equal({ code: 'MY_CODE', message: 'nope', retryable: false });
    });

    it('when the thrown object has fields of the wrong types, then they are not used', () => {
      const e = toTaskError({ code: 42, message: {}, retryable: 'no' });
      expect(e.code).to.equal('NON_ERROR_THROWN');
      expect(e.message).to.be.a('string');
      expect(e.retryable).to.equal(true);
    });

    it('when reading any field throws (getters, a Proxy), then it still gives an error', () => {
      const getters = Object.defineProperty({}, 'message', {
        get() {
          throw new Error('getter');
        },
      });
      const proxy = new Proxy(
        {},
        {
          get() {
            throw new Error('get');
          },
          getPrototypeOf() {
            throw new Error('proto');
          },
        },
      );
      for (const v of [getters, proxy, Object.create(null)])
        expect(toTaskError(v).code).to.equal('NON_ERROR_THROWN');
    });

    it('when the message is huge, then it is capped', () => {
      expect(toTaskError(new Error('x'.repeat(100_000))).message).to.have.length(MAX_ERROR_MESSAGE);
    });
  });

  describe('toJsonResult', () => {
    it('when the result holds a BigInt, a function or a symbol anywhere, or is a cycle, then RESULT_NOT_JSON', () => {
      const cycle: Record<string, unknown> = {};
      cycle.me = cycle;
      const throwingToJson = { toJSON: () => JSON.parse('{') as unknown };
      for (const v of [{ n: 1n }, 2n, { f: () => 1 }, [Symbol('s')], () => 1, cycle, throwingToJson]) {
        const r = toJsonResult(v);
        expect(r.ok).to.equal(false);
        if (!r.ok) expect(r.error).to.include({ code: 'RESULT_NOT_JSON', retryable: false });
      }
    });

    it('when the result is undefined, then it is recorded as null; JSON values pass unchanged', () => {
      expect(toJsonResult(undefined)).to.deep.equal({ ok: true, value: null });
      const v = { a: [1, 'b', null, { c: true }], d: new Date(0) };
      expect(toJsonResult(v)).to.deep.equal({ ok: true, value: JSON.parse(JSON.stringify(v)) as unknown });
    });
  });

  describe('installCrashGuard', () => {
    const log = pino({ level: 'silent' });

    it('when an error is raised inside an attempt scope, then that attempt fails with TASK_CRASHED', async () => {
      const target = new EventEmitter();
      const uninstall = installCrashGuard(target, log);
      const { scope, crashed, end } = newCrashScope('t1');
      crashScope.run(scope, () => target.emit('uncaughtException', new Error('boom')));
      const error = await crashed;
      expect(error).to.include({ code: 'TASK_CRASHED', retryable: true });
      expect(error.message).to.contain('boom');
      end();
      uninstall();
      expect(target.listenerCount('uncaughtException')).to.equal(0);
    });

    it('when the attempt had ended, or there is no attempt, then nothing throws', () => {
      const target = new EventEmitter();
      installCrashGuard(target, log);
      const { scope, end } = newCrashScope('t2');
      end();
      expect(scope.crash({ code: 'X', message: 'late' })).to.equal(false);
      crashScope.run(scope, () => target.emit('unhandledRejection', 'late', Promise.resolve()));
      target.emit(
        'uncaughtException',
        new Proxy(
          {},
          {
            getPrototypeOf: () => {
              throw new Error('p');
            },
          },
        ),
      );
    });
  });
});
