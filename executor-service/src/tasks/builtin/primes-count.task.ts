/**
 * `primes.count` (cpu): how many primes are ≤ upTo. A segmented sieve of Eratosthenes over odd
 * numbers only, so memory stays at one 32 KiB segment plus the base primes up to √upTo.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { defineTask, TaskFailure, type TaskContext } from '../task-definition.js';

export interface PrimesCountPayload {
  upTo: number;
}

export interface PrimesCountResult {
  count: number;
}

export const MAX_UP_TO = 50_000_000;

/** Odd numbers per segment: 32 KiB of flags fits in L1 cache. */
const SEGMENT = 32 * 1024;
const PROGRESS_STEP = 5;

/** Odd primes ≤ limit, by a plain sieve (limit is at most √MAX_UP_TO ≈ 7,072). */
function oddPrimesUpTo(limit: number): number[] {
  const composite = new Uint8Array(limit + 1);
  const primes: number[] = [];
  for (let n = 3; n <= limit; n += 2) {
    if (composite[n]) continue;
    primes.push(n);
    for (let m = n * n; m <= limit; m += 2 * n) composite[m] = 1;
  }
  return primes;
}

export async function countPrimes(
  upTo: number,
  ctx: Pick<TaskContext, 'signal' | 'progress'>,
): Promise<number> {
  if (upTo < 2) return 0;
  let root = Math.floor(Math.sqrt(upTo));
  while ((root + 1) * (root + 1) <= upTo) root++;
  while (root * root > upTo) root--;

  const basePrimes = oddPrimesUpTo(root);
  // Next odd multiple of each base prime still to strike out, carried from segment to segment.
  const next = Uint32Array.from(basePrimes, (p) => p * p);
  const flags = new Uint8Array(SEGMENT);
  const totalOdds = Math.floor((upTo - 1) / 2) + 1; // odd numbers 1, 3, …, ≤ upTo
  let count = 1; // the prime 2
  let nextReport = PROGRESS_STEP;

  // Segment k covers the odd numbers low, low + 2, …, low + 2 * (SEGMENT - 1).
  for (let low = 1; low <= upTo; low += 2 * SEGMENT) {
    const size = Math.min(SEGMENT, Math.floor((upTo - low) / 2) + 1);
    const high = low + 2 * size; // exclusive
    flags.fill(0, 0, size);
    for (let i = 0; i < basePrimes.length; i++) {
      const step = 2 * basePrimes[i]!;
      let m = next[i]!;
      for (; m < high; m += step) flags[(m - low) >> 1] = 1;
      next[i] = m;
    }
    for (let i = 0; i < size; i++) if (flags[i] === 0) count++;
    if (low === 1) count--; // 1 is not prime

    const done = ((low - 1) / 2 + size) / totalOdds;
    if (done * 100 >= nextReport) {
      const percent = Math.min(100, Math.floor((done * 100) / PROGRESS_STEP) * PROGRESS_STEP);
      ctx.progress(percent, `sieved up to ${high - 1 > upTo ? upTo : high - 1}`);
      nextReport = percent + PROGRESS_STEP;
      // In a worker thread nothing else runs here; called on the main thread (tests, an io
      // executor) this lets timers and cancellation in between reports.
      await yieldToEventLoop();
    }
    ctx.signal.throwIfAborted();
  }
  return count;
}

export default defineTask<PrimesCountPayload, PrimesCountResult>({
  type: 'primes.count',
  kind: 'cpu',
  description: 'Counts the primes ≤ upTo with a segmented sieve of Eratosthenes.',
  payloadSchema: {
    type: 'object',
    properties: { upTo: { type: 'integer', minimum: 2, maximum: MAX_UP_TO } },
    required: ['upTo'],
    additionalProperties: false,
  },
  resultSchema: {
    type: 'object',
    properties: { count: { type: 'integer', minimum: 0 } },
    required: ['count'],
  },
  timeoutMs: 60_000,
  maxAttempts: 3,
  async handler({ upTo }, ctx) {
    // The gateway validates against payloadSchema; this guards direct callers and old messages.
    if (!Number.isInteger(upTo) || upTo < 2 || upTo > MAX_UP_TO) {
      throw new TaskFailure('PAYLOAD_INVALID', `upTo must be an integer in 2..${MAX_UP_TO}`);
    }
    return { count: await countPrimes(upTo, ctx) };
  },
});
