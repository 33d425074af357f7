import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { HttpProblem } from './problem-details.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer API keys, compared in constant time (digests of equal length, every key checked).
 * Only /v1 is guarded; health, metrics and the API description stay open.
 */
export function apiKeyAuth(keys: readonly string[]) {
  const digests = keys.map(digest);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (digests.length === 0 || !ctx.path.startsWith('/v1')) {
      await next();
      return;
    }
    const m = /^bearer\s+(.+)$/i.exec(ctx.get('authorization'));
    const given = digest(m?.[1] ?? '');
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    if (!ok)
      throw new HttpProblem('UNAUTHORIZED', 'a valid API key is required: Authorization: Bearer <key>');
    ctx.state.client = `key:${createHash('sha256').update(m![1]!).digest('hex').slice(0, 12)}`;
    await next();
  };
}
