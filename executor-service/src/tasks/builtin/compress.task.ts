/**
 * `compress` (cpu): compresses `text`, or `generateBytes` bytes of deterministic word salad, with
 * gzip or brotli, and reports the sizes and the input's SHA-256. The compressed bytes themselves
 * are not returned (results are stored with the task); `compressInput` gives them to callers
 * that want them, such as tests.
 */
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineTask, TaskFailure } from '../task-definition.js';

export type CompressAlgorithm = 'gzip' | 'brotli';

export interface CompressPayload {
  text?: string;
  generateBytes?: number;
  algorithm: CompressAlgorithm;
  /** gzip 0..9 (default 6), brotli 0..11 (default 6, not zlib's 11: 50 MB at 11 takes minutes). */
  level?: number;
}

export interface CompressResult {
  algorithm: CompressAlgorithm;
  inputBytes: number;
  outputBytes: number;
  /** inputBytes / outputBytes, 4 decimals (0 for empty input). */
  ratio: number;
  /** SHA-256 (hex) of the uncompressed input: what decompressing the output must give. */
  sha256: string;
}

export const MAX_TEXT_CHARS = 1_048_576;
export const MAX_GENERATE_BYTES = 50 * 1_048_576;
const MAX_LEVEL: Record<CompressAlgorithm, number> = { gzip: 9, brotli: 11 };
const DEFAULT_LEVEL = 6;

const WORDS = (
  'the quick brown fox jumps over lazy dog task queue worker thread lease retry backoff ' +
  'message broker store schema prime hash compress sleep request timeout signal abort ' +
  'progress result error status gateway executor heartbeat priority cancel'
)
  .split(' ')
  .map((w) => Buffer.from(`${w} `));

/** `bytes` bytes of words picked by a seeded PRNG (mulberry32): same input every run, ~4:1 with gzip. */
export function generateData(bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let seed = 0x9e3779b9;
  let at = 0;
  while (at < bytes) {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const word = WORDS[((t ^ (t >>> 14)) >>> 0) % WORDS.length]!;
    for (let i = 0; i < word.length && at < bytes; i++) out[at++] = word[i]!;
  }
  return out;
}

export function compressInput(input: Buffer, algorithm: CompressAlgorithm, level = DEFAULT_LEVEL): Buffer {
  return algorithm === 'gzip'
    ? gzipSync(input, { level })
    : brotliCompressSync(input, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: level,
          [constants.BROTLI_PARAM_SIZE_HINT]: input.length,
        },
      });
}

function invalid(message: string): TaskFailure {
  return new TaskFailure('PAYLOAD_INVALID', message);
}

export default defineTask<CompressPayload, CompressResult>({
  type: 'compress',
  kind: 'cpu',
  description: 'Compresses text, or generated compressible bytes, with gzip or brotli; reports the ratio.',
  payloadSchema: {
    type: 'object',
    properties: {
      text: { type: 'string', maxLength: MAX_TEXT_CHARS },
      generateBytes: { type: 'integer', minimum: 0, maximum: MAX_GENERATE_BYTES },
      algorithm: { enum: ['gzip', 'brotli'] },
      level: { type: 'integer', minimum: 0, maximum: 11 },
    },
    required: ['algorithm'],
    oneOf: [{ required: ['text'] }, { required: ['generateBytes'] }],
    if: { properties: { algorithm: { const: 'gzip' } } },
    then: { properties: { level: { type: 'integer', maximum: 9 } } },
    additionalProperties: false,
  },
  resultSchema: {
    type: 'object',
    properties: {
      algorithm: { enum: ['gzip', 'brotli'] },
      inputBytes: { type: 'integer', minimum: 0 },
      outputBytes: { type: 'integer', minimum: 0 },
      ratio: { type: 'number', minimum: 0 },
      sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    },
    required: ['algorithm', 'inputBytes', 'outputBytes', 'ratio', 'sha256'],
  },
  // The slowest valid payload, 50 MiB at brotli 11, takes about 3 minutes on one core.
  timeoutMs: 300_000,
  maxAttempts: 3,
  handler({ text, generateBytes, algorithm, level = DEFAULT_LEVEL }, ctx) {
    if ((text === undefined) === (generateBytes === undefined)) {
      throw invalid('give exactly one of text and generateBytes');
    }
    if (algorithm !== 'gzip' && algorithm !== 'brotli') throw invalid('algorithm must be gzip or brotli');
    if (!Number.isInteger(level) || level < 0 || level > MAX_LEVEL[algorithm]) {
      throw invalid(`level must be an integer in 0..${MAX_LEVEL[algorithm]} for ${algorithm}`);
    }
    let input: Buffer;
    if (text !== undefined) {
      if (typeof text !== 'string' || text.length > MAX_TEXT_CHARS) {
        throw invalid(`text must be a string of at most ${MAX_TEXT_CHARS} characters`);
      }
      input = Buffer.from(text, 'utf8');
    } else {
      const n = generateBytes!;
      if (!Number.isInteger(n) || n < 0 || n > MAX_GENERATE_BYTES) {
        throw invalid(`generateBytes must be an integer in 0..${MAX_GENERATE_BYTES}`);
      }
      input = generateData(n);
      ctx.progress(10, 'input generated');
    }
    ctx.signal.throwIfAborted();
    const sha256 = createHash('sha256').update(input).digest('hex');
    const output = compressInput(input, algorithm, level);
    return {
      algorithm,
      inputBytes: input.length,
      outputBytes: output.length,
      ratio: input.length === 0 ? 0 : Math.round((input.length / output.length) * 10_000) / 10_000,
      sha256,
    };
  },
});
