/**
 * How deeply a request's JSON may nest. Recursive code on the way (JSON.stringify, the BSON
 * serializer, canonical hashing) overflows the stack some thousands of levels down, which would
 * turn a hostile body into a 500; real payloads stay far below this.
 *
 * The store counts its whole JSON-RPC request (a batch, the call, its params); the gateway's
 * bodies become params one level deeper, so it allows `MAX_JSON_DEPTH - 2`.
 */
export const MAX_JSON_DEPTH = 100;

/** True when arrays and objects nest more than `max` levels (`{}` is one level). Iterative. */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
