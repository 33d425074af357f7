/**
 * Bearer tokens: which caller a request's `Authorization` header names. Several tokens of each
 * kind may be valid at once, so that clients can be rolled over to a new one (README, "Rotating
 * tokens").
 */
import { timingSafeEqual } from 'node:crypto';
import type { Caller } from '../rpc/method-rights.js';

export interface AcceptedTokens {
  /** Tokens for every method but taskTypes.register. */
  rpcTokens: readonly string[];
  /** Tokens for every method. */
  executorTokens: readonly string[];
}

function matchesAny(given: Buffer, tokens: readonly string[]): boolean {
  // Every token is compared (no early exit), each in constant time for its length.
  let found = false;
  for (const token of tokens) {
    const expected = Buffer.from(token);
    if (given.length === expected.length && timingSafeEqual(given, expected)) found = true;
  }
  return found;
}

/**
 * The caller, or undefined when auth is on and the header carries no accepted token.
 * No tokens configured: auth is off, everyone has every right (the loopback default).
 * RPC tokens but no executor token: a one-token setup, its holders have every right.
 */
export function authenticate(header: string | undefined, tokens: AcceptedTokens): Caller | undefined {
  const { rpcTokens, executorTokens } = tokens;
  if (rpcTokens.length === 0 && executorTokens.length === 0) return 'executor';
  const m = /^bearer (.+)$/i.exec(header ?? ''); // the scheme is case-insensitive (RFC 9110)
  if (!m) return undefined;
  const given = Buffer.from(m[1]!);
  if (matchesAny(given, executorTokens)) return 'executor';
  if (matchesAny(given, rpcTokens)) return executorTokens.length === 0 ? 'executor' : 'client';
  return undefined;
}
