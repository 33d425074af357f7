/**
 * `hash` (cpu): derives a key from `input` with scrypt or PBKDF2. Synchronous node:crypto calls
 * on purpose: this runs in a worker thread, and the sync calls keep the work on that thread
 * instead of libuv's small shared pool.
 */
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { defineTask, TaskFailure } from '../task-definition.js';

export interface HashPayload {
  input: string;
  algorithm: 'scrypt' | 'pbkdf2';
  /** PBKDF2 only. */
  iterations?: number;
  /** Used as UTF-8 bytes; a random 16-byte hex string when absent. */
  salt?: string;
}

export interface HashResult {
  algorithm: 'scrypt' | 'pbkdf2';
  /** The derived key, hex. */
  hash: string;
  /** The salt used; passing it back gives the same hash. */
  salt: string;
}

export const MAX_INPUT_CHARS = 10_000;
export const MAX_ITERATIONS = 5_000_000;
export const DEFAULT_ITERATIONS = 100_000;
const KEY_BYTES = 32;
/** scrypt's interactive-login parameters (N = 2^14, r = 8, p = 1): 16 MiB, tens of ms. */
const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;

function invalid(message: string): TaskFailure {
  return new TaskFailure('PAYLOAD_INVALID', message);
}

export default defineTask<HashPayload, HashResult>({
  type: 'hash',
  kind: 'cpu',
  description: `Derives a ${KEY_BYTES}-byte key with scrypt (N=2^14, r=8, p=1) or PBKDF2-HMAC-SHA256.`,
  payloadSchema: {
    type: 'object',
    properties: {
      input: { type: 'string', maxLength: MAX_INPUT_CHARS },
      algorithm: { enum: ['scrypt', 'pbkdf2'] },
      iterations: { type: 'integer', minimum: 1, maximum: MAX_ITERATIONS },
      salt: { type: 'string', maxLength: 1024 },
    },
    required: ['input', 'algorithm'],
    additionalProperties: false,
  },
  resultSchema: {
    type: 'object',
    properties: {
      algorithm: { enum: ['scrypt', 'pbkdf2'] },
      hash: { type: 'string', pattern: '^[0-9a-f]+$' },
      salt: { type: 'string' },
    },
    required: ['algorithm', 'hash', 'salt'],
  },
  timeoutMs: 60_000,
  maxAttempts: 3,
  handler({ input, algorithm, iterations = DEFAULT_ITERATIONS, salt }) {
    if (typeof input !== 'string' || input.length > MAX_INPUT_CHARS) {
      throw invalid(`input must be a string of at most ${MAX_INPUT_CHARS} characters`);
    }
    if (salt !== undefined && typeof salt !== 'string') throw invalid('salt must be a string');
    const usedSalt = salt ?? randomBytes(16).toString('hex');
    let key: Buffer;
    switch (algorithm) {
      case 'scrypt':
        key = scryptSync(input, usedSalt, KEY_BYTES, SCRYPT);
        break;
      case 'pbkdf2':
        if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
          throw invalid(`iterations must be an integer in 1..${MAX_ITERATIONS}`);
        }
        key = pbkdf2Sync(input, usedSalt, iterations, KEY_BYTES, 'sha256');
        break;
      default:
        throw invalid(`algorithm must be scrypt or pbkdf2`);
    }
    return { algorithm, hash: key.toString('hex'), salt: usedSalt };
  },
});
