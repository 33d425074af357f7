import type { Context, Next } from 'koa';
import { HttpProblem } from './problem-details.js';

const WITH_BODY = ['POST', 'PUT', 'PATCH'];

/**
 * Requests with a body must be application/json (415 otherwise), checked before parsing. JSON is
 * UTF-8 (RFC 8259): a body declared in another charset is refused rather than misread as UTF-8.
 */
export async function requireJson(ctx: Context, next: Next): Promise<void> {
  if (WITH_BODY.includes(ctx.method)) {
    if (ctx.request.length !== 0 && !ctx.is('application/json')) {
      throw new HttpProblem(
        'UNSUPPORTED_MEDIA_TYPE',
        `content-type must be application/json, not ${ctx.get('content-type') || 'none'}`,
      );
    }
    if (!ctx.get('content-type')) {
      throw new HttpProblem('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(ctx.get('content-type'))?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      throw new HttpProblem(
        'UNSUPPORTED_MEDIA_TYPE',
        `JSON must be UTF-8, not charset=${charset.slice(0, 40)}`,
      );
    }
  }
  await next();
}
