import { expect } from 'chai';
import { RETRY_BACKOFF } from '@tasks/contracts';
import { isAppError } from '../../src/app-error.js';
import { retryDelayMs } from '../../src/store/backoff.js';
import { canonicalJson, sha256 } from '../../src/store/canonical-json.js';
import { decodeCursor, encodeCursor } from '../../src/store/cursor.js';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('list cursor', () => {
  it('when a cursor is encoded and decoded, then the position comes back unchanged', () => {
    const position = {
      createdAt: new Date('2026-11-28T13:00:00.123Z'),
      id: 'a1b2c3d4-e5f6-7890-abcd-ef0123456789',
    };
    const text = encodeCursor(position);
    expect(text).to.match(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).to.deep.equal(position);
  });

  it('when a cursor is garbage or forged, then VALIDATION_FAILED on /cursor', () => {
    const garbage = [
      '',
      'garbage',
      '!!!',
      b64(null),
      b64('text'),
      b64({ createdAt: 1, id: 'x' }),
      b64([1]),
      b64([1, 'x', 'y']),
      b64([1.5, 'x']),
      b64(['1', 'x']),
      b64([Number.MAX_SAFE_INTEGER + 2, 'x']),
      b64([1, 2]),
      b64([1, { $ne: null }]),
      b64([1, '']),
      b64([1, '$where']),
      b64([1, 'x'.repeat(101)]),
    ];
    for (const text of garbage) {
      let caught: unknown;
      try {
        decodeCursor(text);
      } catch (err) {
        caught = err;
      }
      expect(isAppError(caught), `cursor ${JSON.stringify(text)}`).to.equal(true);
      if (!isAppError(caught)) return;
      expect(caught.type).to.equal('VALIDATION_FAILED');
      expect(caught.toRpc().data?.fields?.map((f) => f.path)).to.deep.equal(['/cursor']);
    }
  });
});

describe('retryDelayMs', () => {
  const exp = (attempt: number) =>
    Math.min(RETRY_BACKOFF.capMs, RETRY_BACKOFF.baseMs * RETRY_BACKOFF.factor ** (attempt - 1));

  it('when attempts go up, then the delay grows', () => {
    const half = () => 0.5;
    const delays = [1, 2, 3, 4, 5].map((a) => retryDelayMs(a, half));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).to.be.greaterThan(delays[i - 1]!);
  });

  it('when the random part is at its extremes, then the delay stays within [exp/2, exp]', () => {
    for (let attempt = 1; attempt <= 15; attempt++) {
      expect(retryDelayMs(attempt, () => 0)).to.equal(Math.round(exp(attempt) / 2));
      expect(retryDelayMs(attempt, () => 0.999999)).to.be.within(exp(attempt) / 2, exp(attempt));
      expect(retryDelayMs(attempt, () => 0.37)).to.be.within(exp(attempt) / 2, exp(attempt));
    }
  });

  it('when attempts are many, then the delay is capped', () => {
    for (const attempt of [20, 100, 10_000]) {
      expect(retryDelayMs(attempt, () => 1)).to.equal(RETRY_BACKOFF.capMs);
      expect(retryDelayMs(attempt, () => 0)).to.equal(RETRY_BACKOFF.capMs / 2);
    }
  });

  it('when the attempt number is 0 or below, then the first delay applies', () => {
    expect(retryDelayMs(0, () => 1)).to.equal(RETRY_BACKOFF.baseMs);
    expect(retryDelayMs(-3, () => 1)).to.equal(RETRY_BACKOFF.baseMs);
  });
});

describe('canonicalJson', () => {
  it('when two objects differ only in key order, at any depth, then their canonical JSON and hash are equal', () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: null }, c: 'z' };
    const b = { c: 'z', a: { x: null, y: [1, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).to.equal(canonicalJson(b));
    expect(canonicalJson(a)).to.equal('{"a":{"x":null,"y":[1,{"p":2,"q":1}]},"b":1,"c":"z"}');
    expect(sha256(canonicalJson(a))).to.equal(sha256(canonicalJson(b)));
  });

  it('when values or array order differ, then their canonical JSON differs', () => {
    expect(canonicalJson({ a: [1, 2] })).to.not.equal(canonicalJson({ a: [2, 1] }));
    expect(canonicalJson({ a: 1 })).to.not.equal(canonicalJson({ a: '1' }));
  });

  it('when the value is not an object, then it is plain JSON', () => {
    for (const v of [null, 1, 'x', true, [3, 1, 2]]) expect(canonicalJson(v)).to.equal(JSON.stringify(v));
  });
});
