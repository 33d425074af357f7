/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the
 * whole system on loopback. Screenshots go to test-output/dashboard/ (gitignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TaskStoreClient } from '@tasks/contracts';
import { api, startSystem, waitForStatus, type RunningSystem } from '@tasks/testkit';
import { startReceiver, type WebhookReceiver } from '@tasks/testkit';

// Code passed to page.evaluate runs in the page; these stand in for the DOM globals there
// (the project's type-check has no DOM library).
interface PageNode {
  id: string;
  textContent: string | null;
  blur(): void;
}
declare const window: { innerWidth: number; scrollTo(x: number, y: number): void; __sameDocument?: boolean };
declare const document: {
  activeElement: PageNode | null;
  documentElement: { scrollWidth: number };
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): { length: number };
};

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../test-output/dashboard/', import.meta.url));
const WAIT = { timeout: 60_000 };
const WEBHOOK_SECRET = 'dashboard-test-secret-of-at-least-32-chars';

describe('dashboard in Chromium (e2e: whole system)', function () {
  this.timeout(180_000);
  let sys: RunningSystem;
  /** A remote endpoint that always fails: http.request tasks pointed at it end failed. */
  let failing: Server;
  /** Receives webhooks: 500 until `hooksUp`, then 200. */
  let receiver: WebhookReceiver;
  let hooksUp = false;
  let browser: Browser;
  let context: BrowserContext;
  const errors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI)
        throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)`);

      console.log(`    skipped: no ${CHROMIUM} (apt-get install chromium)`);
      this.skip();
    }
    mkdirSync(SHOTS, { recursive: true });
    failing = createServer((_req, res) => res.writeHead(500).end('always failing'));
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    const failingHost = `127.0.0.1:${(failing.address() as AddressInfo).port}`;
    receiver = await startReceiver(WEBHOOK_SECRET, () => (hooksUp ? 200 : 500));
    sys = await startSystem({
      executorEnv: {
        HTTP_ALLOW_HOSTS: `${failingHost},${receiver.host}`,
        WEBHOOK_SECRET,
        WEBHOOK_POLL_MS: '200',
      },
      storeEnv: { WEBHOOK_MAX_ATTEMPTS: '2', WEBHOOK_RETRY_BASE_MS: '200' },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await sys?.stop();
    // Skipped (no Chromium) before the server was made: nothing to close.
    if (failing) await new Promise((r) => failing.close(r));
    await receiver?.close();
  });

  /** A page that records every console error and uncaught exception. */
  async function open(hash = ''): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    await page.goto(`${sys.gatewayUrl}/${hash}`);
    return page;
  }

  /** Marks the document: the mark survives hash navigation and live updates, not a reload. */
  const markNoReload = (page: Page) => page.evaluate(() => (window.__sameDocument = true));
  const stillSameDocument = (page: Page) => page.evaluate(() => window.__sameDocument === true);

  it('when the dashboard opens, then counts, chart, workers and dead letters show, live, with no console error', async () => {
    const page = await open();
    await page.getByRole('heading', { name: 'Tasks by status' }).waitFor(WAIT);
    await page.locator('#live', { hasText: 'live' }).waitFor(WAIT);
    await page.locator('dd[data-count="succeeded"]').waitFor(WAIT);
    await page.locator('#dead-count', { hasText: 'recorded' }).waitFor(WAIT);
    expect(await page.locator('#banner').isHidden(), 'no outage banner').to.equal(true);
    expect(await page.locator('#auth').isHidden(), 'no key asked for when auth is off').to.equal(true);
    expect(await page.getByRole('img', { name: /Last minute/ }).count()).to.equal(1);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('when a task is submitted through the form, then it appears in another open dashboard and reaches succeeded live', async () => {
    const watcher = await open();
    await watcher.locator('table[aria-label="Tasks"] tbody').waitFor(WAIT);
    await watcher.locator('#live', { hasText: 'live' }).waitFor(WAIT);
    await markNoReload(watcher);

    const page = await open();
    await page.getByLabel('Task type').selectOption('sleep');
    await page.getByLabel(/^ms( |$)/).fill('300');
    await page.getByRole('button', { name: 'Submit task' }).click();
    await page.waitForURL(/#\/tasks\//, WAIT);
    const id = decodeURIComponent(page.url().split('#/tasks/')[1]!);
    await markNoReload(page);
    await page.locator('#task-status[data-status="succeeded"]').waitFor(WAIT);
    expect(await page.locator('#attempts tbody tr').count(), 'one attempt').to.equal(1);
    expect(await page.locator('#attempts tbody tr td').nth(1).textContent(), 'its worker').to.match(/\S/);
    expect(await stillSameDocument(page)).to.equal(true);

    await watcher.locator(`tr[data-task-id="${id}"] [data-status="succeeded"]`).waitFor(WAIT);
    expect(await stillSameDocument(watcher), 'updated live, not reloaded').to.equal(true);
    await watcher.close();
    await page.close();
  });

  it('when a batch of tasks arrives while the overview is open, then it reads pages, never each task', async () => {
    const page = await open();
    await page.locator('table[aria-label="Tasks"] tbody').waitFor(WAIT);
    await page.locator('#live', { hasText: 'live' }).waitFor(WAIT);
    const taskReads: string[] = [];
    const pageReads: string[] = [];
    page.on('request', (r) => {
      const { pathname } = new URL(r.url());
      if (pathname.startsWith('/v1/tasks/')) taskReads.push(pathname);
      if (pathname === '/v1/tasks') pageReads.push(r.url());
    });
    const created = await api(sys.gatewayUrl, '/v1/tasks/batch', {
      method: 'POST',
      json: { tasks: Array.from({ length: 60 }, () => ({ type: 'noop' })) },
    });
    expect(created.status).to.equal(201);
    const ids = (created.body.items as { id: string }[]).map((t) => t.id);
    // Created in one millisecond, they are listed by id, highest first: that one heads the first page.
    const first = [...ids].sort().at(-1)!;
    await page.locator(`tr[data-task-id="${first}"]`).waitFor(WAIT);
    for (const id of ids) await waitForStatus(sys.gatewayUrl, id, ['succeeded'], 60_000);
    await page.locator(`tr[data-task-id="${first}"] [data-status="succeeded"]`).waitFor(WAIT);
    expect(taskReads, 'no task read for an event').to.deep.equal([]);
    // 60 tasks make 180 events (queued, running, succeeded); the page is read a few times.
    expect(pageReads.length, 'page reads').to.be.below(30);
    await page.close();
  });

  it('when a long task is cancelled from its page, then it shows cancelled', async () => {
    const created = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: { type: 'sleep', payload: { ms: 300_000 } },
    });
    expect(created.status).to.equal(201);
    const page = await open(`#/tasks/${created.body.id}`);
    await page.locator('#task-status[data-status="running"]').waitFor(WAIT);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#task-status[data-status="cancelled"]').waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Retry' }).isEnabled()).to.equal(true);
    expect((await api(sys.gatewayUrl, `/v1/tasks/${created.body.id}`)).body.status).to.equal('cancelled');
    await page.close();
  });

  it('when a failed task is retried from its page, then it runs again and the page shows the second attempt', async () => {
    // An endpoint that answers 500, with one attempt allowed: a failure that is not retried by itself.
    const url = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/`;
    const created = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: { type: 'http.request', payload: { url }, maxAttempts: 1 },
    });
    expect(created.status).to.equal(201);
    await waitForStatus(sys.gatewayUrl, created.body.id, ['failed'], 60_000);
    const page = await open(`#/tasks/${created.body.id}`);
    await page.locator('#task-status[data-status="failed"]').waitFor(WAIT);
    expect(await page.locator('#task-error').textContent()).to.match(/\S/);
    await markNoReload(page);
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('#attempts tbody tr').nth(1).waitFor(WAIT);
    await page.locator('#task-status[data-status="failed"]').waitFor(WAIT);
    expect(await page.locator('#attempts tbody tr').count()).to.equal(2);
    expect(await stillSameDocument(page)).to.equal(true);
    await page.close();
  });

  it('when a task has more changes than it carries, then its page loads the full history on request, oldest first', async () => {
    // A type no executor serves: the test makes the changes itself through the store.
    const store = new TaskStoreClient({ url: `${sys.storeUrl}`, retries: 0 });
    const type = 'e2e.unserved-history';
    await store.call('taskTypes.register', {
      workerId: 'e2e',
      types: [{ type, kind: 'io', payloadSchema: { type: 'object' }, timeoutMs: 5_000, maxAttempts: 1 }],
    });
    const { task } = await store.call('tasks.create', { type, payload: {} });
    const cycles = 30; // 91 changes
    for (let n = 0; n < cycles; n++) {
      const leaseId = `lease-${n}`;
      await store.call('tasks.claim', { id: task.id, workerId: `w${n}`, leaseMs: 30_000, leaseId });
      await store.call('tasks.fail', {
        id: task.id,
        leaseId,
        error: { code: 'BOOM', message: `n${n}`, retryable: false },
      });
      await store.call('tasks.retry', { id: task.id, by: `op${n}` });
    }
    const page = await open(`#/tasks/${task.id}`);
    await page.locator('#history-note').waitFor(WAIT);
    const carried = await page.locator('#history-latest li').count();
    expect(await page.locator('#history-note').textContent()).to.include(`${1 + 3 * cycles} changes`);
    await page.getByRole('button', { name: /^Full history/ }).click();
    await page.locator('#history-earlier li').first().waitFor(WAIT);
    expect(carried + (await page.locator('#history-earlier li').count())).to.equal(1 + 3 * cycles);
    expect(await page.locator('#history-earlier li').first().textContent()).to.include('queued by create');
    expect(await page.locator('#history-more').count()).to.equal(0);
    // Every attempt shows once the older changes are there.
    expect(await page.locator('#attempts tbody tr').count()).to.equal(cycles);
    await page.screenshot({ path: path.join(SHOTS, 'task-full-history.png'), fullPage: true });
    await page.close();
  });

  it('when a webhook delivery was given up, then the task page shows it failed, and Redeliver sends it again', async () => {
    hooksUp = false;
    const created = await api(sys.gatewayUrl, '/v1/tasks', {
      method: 'POST',
      json: { type: 'noop', payload: {}, webhook: { url: `${receiver.url}/hook` } },
    });
    expect(created.status).to.equal(201);
    const page = await open(`#/tasks/${created.body.id}`);
    const row = page.locator('#webhook-deliveries tbody tr[data-id]');
    await page.locator('#webhook-deliveries tbody tr[data-state="failed"]').waitFor(WAIT);
    expect(await row.locator('td').nth(2).textContent()).to.equal('2 of 2');
    expect(await row.locator('td').nth(3).textContent()).to.equal('500');
    hooksUp = true;
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await page.locator('#webhook-deliveries tbody tr[data-state="delivered"]').waitFor(WAIT);
    expect(await row.locator('td').nth(3).textContent()).to.equal('200');
    await page.close();
  });

  it('when the form is sent with a bad value, then the server’s message shows at that field', async () => {
    expect(errors).to.deep.equal([]);
    const page = await open();
    await page.getByLabel('Task type').selectOption('sleep');
    const ms = page.getByLabel(/^ms( |$)/);
    await ms.fill('-5');
    await page.getByRole('button', { name: 'Submit task' }).click();
    const fieldError = page.locator('#f-payload-ms-error');
    await fieldError.filter({ hasText: /\S/ }).waitFor(WAIT);
    expect(await fieldError.textContent()).to.match(/>= 0/);
    expect(await ms.getAttribute('aria-invalid')).to.equal('true');
    expect(await page.evaluate(() => document.activeElement?.id), 'focus moves to the field').to.equal(
      'f-payload-ms',
    );
    expect(page.url(), 'no task page: nothing was created').not.to.match(/#\/tasks\//);
    await page.close();
    // Chromium logs the refused POST itself; that one line is expected, nothing else.
    expect(errors.map((e) => e.replace(/^\S+ /, ''))).to.deep.equal([
      'Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)',
    ]);
    errors.length = 0;
  });

  it('when a flow runs, then its page draws the graph, follows it live to succeeded, and links each node to its task', async () => {
    const name = `primes fan-in ${Date.now()}`;
    const created = await api(sys.gatewayUrl, '/v1/flows', {
      method: 'POST',
      json: {
        name,
        nodes: [
          { key: 'p1', type: 'primes.count', payload: { upTo: 1_000 } },
          { key: 'p2', type: 'primes.count', payload: { upTo: 2_000 } },
          { key: 'p3', type: 'primes.count', payload: { upTo: 3_000 } },
          // Holds `all` back for a while, so that the page is seen to change while the flow runs.
          { key: 'pause', type: 'sleep', payload: { ms: 3_000 } },
          { key: 'all', type: 'collect', payload: {}, dependsOn: ['p1', 'p2', 'p3', 'pause'] },
        ],
      },
    });
    expect(created.status).to.equal(201);
    const flowId = created.body.id as string;
    const nodes = created.body.nodes as { key: string; taskId: string }[];
    const allTask = nodes.find((n) => n.key === 'all')!.taskId;

    const page = await open(`#/flows/${flowId}`);
    await page.locator('#flow-title', { hasText: name }).waitFor(WAIT);
    await markNoReload(page);
    const graph = page.locator('svg#flow-graph');
    expect(await graph.locator('a.node').count(), 'node links').to.equal(5);
    expect(await graph.locator('a.node rect').count(), 'node boxes').to.equal(5);
    expect(await graph.locator('path.edge').count(), 'edges').to.equal(4);
    for (const from of ['p1', 'p2', 'p3', 'pause'])
      expect(await graph.locator(`path.edge[data-from="${from}"][data-to="all"]`).count()).to.equal(1);
    // While `pause` sleeps, `all` waits for it.
    expect(await graph.locator('a.node[data-key="all"]').getAttribute('data-status')).to.equal('waiting');

    // Live: the page follows the flow's events to the end, without a reload.
    await page.waitForFunction(
      () => document.querySelectorAll('#flow-graph a.node[data-status="succeeded"]').length === 5,
      undefined,
      { timeout: 20_000, polling: 100 },
    );
    await page.locator('#flow-status[data-status="succeeded"]').waitFor(WAIT);
    for (const key of ['p1', 'p2', 'p3', 'pause', 'all'])
      expect(await graph.locator(`a.node[data-key="${key}"] text.state`).textContent(), key).to.equal(
        'succeeded',
      );
    expect(await page.locator('#cancel-flow').count(), 'no cancel once ended').to.equal(0);
    expect(await stillSameDocument(page), 'updated live, not reloaded').to.equal(true);
    await page.screenshot({ path: path.join(SHOTS, 'flow.png') });

    const all = graph.locator('a.node[data-key="all"]');
    expect(await all.getAttribute('href')).to.equal(`#/tasks/${allTask}`);
    await all.click();
    await page.waitForURL((u) => u.hash === `#/tasks/${allTask}`, WAIT);
    await page.locator('#task-status[data-status="succeeded"]').waitFor(WAIT);
    const back = page.locator(`#task-flow a[href="#/flows/${flowId}"]`);
    await back.waitFor(WAIT);
    expect(await page.locator('#task-flow code').first().textContent(), 'its key').to.equal('all');

    await page.goto(`${sys.gatewayUrl}/#/flows`);
    const row = page.locator(`#flows tr[data-flow-id="${flowId}"]`);
    await row.getByRole('link', { name }).waitFor(WAIT);
    expect(await row.locator('[data-status="succeeded"]').first().textContent()).to.equal('succeeded');
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('when a type is paused and resumed on the task types page, then its task waits, says why, and runs after the resume', async () => {
    const limits = await api(sys.gatewayUrl, '/v1/task-types/noop/limits', {
      method: 'PUT',
      json: { concurrency: 2, ratePerSecond: 50 },
    });
    expect(limits.status).to.equal(200);
    const page = await open('#/types');
    try {
      const row = page.locator('#task-types tr[data-type="noop"]');
      await row.waitFor(WAIT);
      await markNoReload(page);
      expect(await row.locator('[data-paused]').getAttribute('data-paused')).to.equal('false');
      expect(await row.locator('[data-limit="concurrency"]').textContent()).to.equal('2 at once');
      expect(await row.locator('[data-limit="rate"]').textContent()).to.equal('50/s');

      await row.getByRole('button', { name: 'Pause noop' }).click();
      await row.locator('[data-paused="true"]').waitFor(WAIT);
      expect((await api(sys.gatewayUrl, '/v1/task-types/noop')).body.paused, 'paused in the store').to.equal(
        true,
      );

      const created = await api(sys.gatewayUrl, '/v1/tasks', { method: 'POST', json: { type: 'noop' } });
      expect(created.status).to.equal(201);
      const id = created.body.id as string;
      // The executor's claim finds the type paused: the task stays queued, held in the store.
      const deadline = Date.now() + 30_000;
      while ((await api(sys.gatewayUrl, `/v1/tasks/${id}`)).body.heldBy !== 'paused') {
        expect(Date.now(), 'held within 30 s').to.be.below(deadline);
        await new Promise((r) => setTimeout(r, 100));
      }
      const taskTab = await open(`#/tasks/${id}`);
      await taskTab
        .locator('#task-held[data-held-by="paused"]', { hasText: 'waiting: type paused' })
        .waitFor(WAIT);
      expect(await taskTab.locator('#task-status').getAttribute('data-status')).to.equal('queued');
      await page.screenshot({ path: path.join(SHOTS, 'task-types.png') });

      await row.getByRole('button', { name: 'Resume noop' }).click();
      await row.locator('[data-paused="false"]').waitFor(WAIT);
      // Live on the task page: the resume released the task and it ran.
      await taskTab.locator('#task-status[data-status="succeeded"]').waitFor(WAIT);
      expect(await taskTab.locator('#task-held').count(), 'no longer held').to.equal(0);
      expect(await stillSameDocument(page), 'changed in place, not reloaded').to.equal(true);
      expect(errors).to.deep.equal([]);
      await taskTab.close();
    } finally {
      await api(sys.gatewayUrl, '/v1/task-types/noop', { method: 'PATCH', json: { paused: false } });
      await api(sys.gatewayUrl, '/v1/task-types/noop/limits', {
        method: 'PUT',
        json: { concurrency: null, ratePerSecond: null },
      });
      await page.close();
    }
  });

  for (const width of [1280, 390]) {
    it(`when shown ${width} px wide, then nothing overflows sideways and the keyboard reaches the form`, async () => {
      const page = await open();
      await page.setViewportSize({ width, height: 900 });
      await page.locator('table[aria-label="Tasks"] tbody tr').first().waitFor(WAIT);
      await page.locator('#workers li').first().waitFor(WAIT);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, 'horizontal overflow in px').to.be.at.most(0);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal('Skip to content');
      await page.getByRole('button', { name: 'Submit task' }).focus();
      expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal('Submit task');
      if (width === 1280) {
        // Some traffic for the chart in the README's screenshot.
        const batch = await api(sys.gatewayUrl, '/v1/tasks/batch', {
          method: 'POST',
          json: { tasks: Array.from({ length: 8 }, () => ({ type: 'sleep', payload: { ms: 50 } })) },
        });
        expect(batch.status).to.equal(201);
        await page.locator('#chart-summary', { hasText: /[1-9]\d* completed/ }).waitFor(WAIT);
        // Counts and rows follow the event stream: all 8 succeed without a reload.
        await page.waitForFunction(
          () => Number(document.querySelector('dd[data-count="succeeded"]')?.textContent) >= 9,
          undefined,
          WAIT,
        );
        await page.waitForFunction(
          () => document.querySelectorAll('tbody [data-status="succeeded"]').length >= 9,
          undefined,
          WAIT,
        );
      }
      await page.evaluate(() => {
        document.activeElement?.blur();
        window.scrollTo(0, 0);
      });
      await page.screenshot({ path: path.join(SHOTS, `overview-${width}.png`), fullPage: width === 390 });
      expect(errors).to.deep.equal([]);
      await page.close();
    });
  }
  it('when a schedule has fired, then #/schedules lists it, pauses and resumes it, and its task links back to it', async () => {
    const created = await api(sys.gatewayUrl, '/v1/schedules', {
      method: 'POST',
      json: { name: 'browser tick', cron: '* * * * * *', task: { type: 'sleep', payload: { ms: 10 } } },
    });
    expect(created.status).to.equal(201);
    const id = created.body.id as string;
    let lastTaskId: string | null = null;
    for (let i = 0; i < 100 && !lastTaskId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      lastTaskId = (await api(sys.gatewayUrl, `/v1/schedules/${id}`)).body.lastTaskId as string | null;
    }
    expect(lastTaskId, 'a tick fired').to.be.a('string');

    const page = await open('#/schedules');
    const row = page.locator(`#schedules tr[data-schedule-id="${id}"]`);
    await row.locator('[data-paused="false"]').waitFor(WAIT);
    expect(await row.locator('td').nth(1).locator('code').textContent()).to.equal('* * * * * *');
    await row.getByRole('button', { name: 'Pause' }).click();
    await row.locator('[data-paused="true"]').waitFor(WAIT);
    expect((await api(sys.gatewayUrl, `/v1/schedules/${id}`)).body.paused, 'paused in the store').to.equal(
      true,
    );
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.locator('[data-paused="false"]').waitFor(WAIT);
    await row.getByRole('button', { name: 'Pause' }).click();
    await row.locator('[data-paused="true"]').waitFor(WAIT);

    await page.goto(`${sys.gatewayUrl}/#/tasks/${lastTaskId}`);
    const link = page.locator(`#task-schedule a[href="#/schedules/${id}"]`);
    await link.click(WAIT);
    await page.waitForURL((u) => u.hash === `#/schedules/${id}`, WAIT);
    await page.locator(`#schedules tr.current[data-schedule-id="${id}"]`).waitFor(WAIT);
    expect(errors).to.deep.equal([]);
    await page.close();
  });
  it('when tasks carry a tag, then the list filters by it, and "Retry all failed" on the types page asks with the count and retries them', async () => {
    const url = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/`;
    const created = await api(sys.gatewayUrl, '/v1/tasks/batch', {
      method: 'POST',
      json: {
        tasks: [1, 2].map(() => ({
          type: 'http.request',
          payload: { url },
          maxAttempts: 1,
          tags: ['browser-bulk'],
          metadata: { origin: 'dashboard-test' },
        })),
      },
    });
    expect(created.status).to.equal(201);
    const ids = created.body.items.map((t: { id: string }) => t.id) as string[];
    for (const id of ids) await waitForStatus(sys.gatewayUrl, id, ['failed'], 60_000);

    const overview = await open();
    await overview.locator('#filter-tag').fill('browser-bulk');
    await overview.locator('#filter-tag').press('Enter');
    await overview.locator('tbody[data-query*="tag=browser-bulk"]').waitFor({ ...WAIT, state: 'attached' });
    await overview.locator(`tr[data-task-id="${ids[0]}"]`).waitFor(WAIT);
    await overview.locator('tbody tr[data-task-id]').nth(1).waitFor(WAIT);
    expect(await overview.locator('tbody tr[data-task-id]').count()).to.equal(2);
    expect(await overview.locator(`tr[data-task-id="${ids[1]}"] .tag`).textContent()).to.equal(
      'browser-bulk',
    );
    await overview.close();
    const taskTab = await open(`#/tasks/${ids[0]}`);
    await taskTab.locator('.facts .tag[data-tag="browser-bulk"]').waitFor(WAIT);
    expect(await taskTab.locator('.facts').textContent()).to.contain('metadata.origin');
    await taskTab.close();

    const failed = await api(sys.gatewayUrl, '/v1/tasks/actions', {
      method: 'POST',
      json: { action: 'retry', filter: { status: 'failed', type: 'http.request' }, dryRun: true },
    });
    const page = await open('#/types');
    const questions: string[] = [];
    page.on('dialog', (d) => {
      questions.push(d.message());
      void d.accept();
    });
    await page.getByRole('button', { name: 'Retry all failed http.request' }).click();
    await page.locator('#types-notice', { hasText: 'queued again' }).waitFor(WAIT);
    expect(questions).to.deep.equal([`Retry ${failed.body.matched} failed tasks of http.request?`]);
    for (const id of ids) {
      const task = (await api(sys.gatewayUrl, `/v1/tasks/${id}`)).body;
      expect(task.history.filter((e: { status: string }) => e.status === 'queued')).to.have.length.at.least(
        2,
      );
    }
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});
