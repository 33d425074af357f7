/**
 * The abuse corpus: hostile or broken requests to the gateway (REST), the store (JSON-RPC) and,
 * through `http.request` tasks, the executor. Each case names what it sends and what must come
 * back; abuse.test.ts runs them against one whole system. Cases marked "found by this corpus"
 * failed before the fix that came with them.
 */
import { cursors, ids, limits, restAuth, restInjection, restTransitions } from './gateway-api.js';
import { contentTypes, malformed, nesting, sizes, unicode } from './gateway-input.js';
import { slow, ssrfRuntime, ssrfSubmit } from './ssrf-and-slow.js';
import {
  rpcAuth,
  rpcCursors,
  rpcIds,
  rpcInjection,
  rpcLimits,
  rpcProtocol,
  rpcTransitions,
} from './store.js';
import type { AbuseCase } from './types.js';

export type { AbuseCase, RawCase, RestCase, RpcCase, RuntimeSsrfCase, SlowCase } from './types.js';

export const CASES: AbuseCase[] = [
  ...malformed,
  ...contentTypes,
  ...sizes,
  ...nesting,
  ...unicode,
  ...restInjection,
  ...ids,
  ...limits,
  ...cursors,
  ...restTransitions,
  ...restAuth,
  ...rpcProtocol,
  ...rpcInjection,
  ...rpcIds,
  ...rpcLimits,
  ...rpcCursors,
  ...rpcTransitions,
  ...rpcAuth,
  ...ssrfSubmit,
  ...ssrfRuntime,
  ...slow,
];
