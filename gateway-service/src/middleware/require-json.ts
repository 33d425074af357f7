import type { Context, Next } from 'koa';
import { HttpProblem } from './problem-details.js';

/** Requests with a body must be application/json (415 otherwise), checked before parsing. */
export async function requireJson(ctx: Context, next: Next): Promise<void> {
  if (
    ['POST', 'PUT', 'PATCH'].includes(ctx.method) &&
    ctx.request.length !== 0 &&
    !ctx.is('application/json')
  ) {
    throw new HttpProblem(
      'UNSUPPORTED_MEDIA_TYPE',
      `content-type must be application/json, not ${ctx.get('content-type') || 'none'}`,
    );
  }
  if (['POST', 'PUT', 'PATCH'].includes(ctx.method) && !ctx.get('content-type')) {
    throw new HttpProblem('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
  }
  await next();
}
