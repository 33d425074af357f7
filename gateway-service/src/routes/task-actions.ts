/**
 * POST /v1/tasks/actions: cancel or retry every task matching a filter (docs/tags-and-bulk-actions.md).
 * The store changes one page at a time (tasks.bulkAction); this route loops over the pages,
 * publishes and announces what each page changed as a single cancel or retry does, logs a progress
 * line per page, and answers the totals — or, for `Accept: application/x-ndjson`, one progress
 * line per page and then the totals.
 */
import { PassThrough } from 'node:stream';
import { Router } from '@koa/router';
import {
  BULK_PAGE_DEFAULT,
  ERRORS,
  isStoreError,
  type BulkAction,
  type BulkActionResult,
  type BulkFilter,
} from '@tasks/contracts';
import type { AppDeps, GatewayContext, GatewayState } from '../app-context.js';
import { bulkActionBody } from '../schemas.js';
import { validated } from '../validation.js';
import { announceDependents } from './tasks.js';

interface BulkBody {
  action: BulkAction;
  filter: BulkFilter;
  dryRun?: boolean;
}

interface Totals {
  matched: number;
  changed: number;
}

export const NDJSON = 'application/x-ndjson';

export function taskActionRoutes(deps: AppDeps): Router<GatewayState> {
  const router = new Router<GatewayState>({ prefix: '/v1/tasks/actions' });

  router.post('task-actions', '/', async (ctx: GatewayContext) => {
    const body = validated<BulkBody>(bulkActionBody, ctx.request.body, 'body');
    const dryRun = body.dryRun ?? false;
    const pages = bulkPages(deps, ctx, { ...body, dryRun });
    // The first page before answering: a refused filter is a 400, not a line in a 200 stream.
    const first = await pages.next();
    let totals: Totals = first.done ? { matched: 0, changed: 0 } : first.value;
    const summary = (done: boolean) => ({ action: body.action, dryRun, ...totals, done });

    if (!ctx.get('accept').includes(NDJSON)) {
      for await (const t of pages) totals = t;
      ctx.body = { action: body.action, dryRun, ...totals };
      return;
    }
    const out = new PassThrough();
    ctx.req.socket.setTimeout(0);
    ctx.set({ 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    ctx.type = NDJSON;
    ctx.status = 200;
    ctx.body = out;
    const line = (value: object) => out.write(`${JSON.stringify(value)}\n`);
    void (async () => {
      try {
        line({ ...totals, done: false });
        for await (const t of pages) {
          totals = t;
          line({ ...totals, done: false });
        }
        line(summary(true));
      } catch (err) {
        // Changed so far stays changed; the same request again goes on from what still matches.
        ctx.state.log.warn({ err }, 'bulk action stopped');
        const code = isStoreError(err) ? err.type : 'INTERNAL';
        const detail = ERRORS[code].http < 500 && err instanceof Error ? err.message : ERRORS[code].title;
        line({ ...summary(true), error: { code, detail } });
      } finally {
        out.end();
      }
    })();
  });

  return router;
}

/** Runs the action page by page and yields the running totals after each page (the last: the totals). */
async function* bulkPages(
  deps: AppDeps,
  ctx: GatewayContext,
  body: Required<Pick<BulkBody, 'dryRun'>> & BulkBody,
): AsyncGenerator<Totals, void> {
  const { store, publisher } = deps;
  const { requestId, log } = ctx.state;
  const by = ctx.state.client ?? 'api';
  const totals: Totals = { matched: 0, changed: 0 };
  let cursor: string | undefined;
  let pageNo = 0;
  do {
    const page: BulkActionResult = await store.call(
      'tasks.bulkAction',
      { ...body, by, limit: BULK_PAGE_DEFAULT, ...(cursor !== undefined && { cursor }) },
      { requestId },
    );
    totals.matched += page.matched;
    totals.changed += page.changed;
    pageNo++;
    // As PATCH /v1/tasks/{id} does: retried tasks are published, every change announced (running
    // tasks that were cancelled are stopped by the announcement).
    const queued = page.tasks.filter((t) => t.status === 'queued');
    if (queued.length > 0) await publisher.publish(queued, requestId, log, 'request');
    await Promise.all(page.tasks.map((t) => publisher.emit(t, log)));
    await announceDependents(publisher, page.dependents, requestId, log);
    log.info({ action: body.action, dryRun: body.dryRun, page: pageNo, ...totals }, 'bulk action progress');
    cursor = page.nextCursor ?? undefined;
    yield { ...totals };
  } while (cursor !== undefined);
}
