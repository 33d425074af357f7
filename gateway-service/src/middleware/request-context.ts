import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { GatewayState } from '../app-context.js';

const VALID_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Request id from x-request-id (when well-formed) or a new UUID, echoed back; a child logger. */
export function requestContext(log: Logger) {
  return async (ctx: Context & { state: GatewayState }, next: Next): Promise<void> => {
    const given = ctx.get('x-request-id');
    const requestId = VALID_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ reqId: requestId });
    ctx.set('x-request-id', requestId);
    await next();
  };
}
