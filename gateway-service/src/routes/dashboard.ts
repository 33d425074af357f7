/**
 * GET / — the operator dashboard: one HTML page and its bundle (dashboard/main.ts, built with
 * esbuild), using only the public /v1 API. From dist/ the bundle `npm run build` wrote is served;
 * from the TypeScript sources (npm start, tests) it is built in memory on first request.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { GatewayContext, GatewayState } from '../app-context.js';
import { HttpProblem } from '../middleware/problem-details.js';

interface Asset {
  body: string;
  type: string;
  hash: string;
}

const TYPES: Record<string, string> = {
  'main.js': 'text/javascript; charset=utf-8',
  'main.css': 'text/css; charset=utf-8',
};

// Everything comes from this origin; no inline script or style, no framing.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async function loadBuilt(): Promise<Map<string, string> | undefined> {
  const dir = new URL('../dashboard/', import.meta.url); // dist/dashboard next to dist/routes
  try {
    const files = await Promise.all(
      Object.keys(TYPES).map(async (f) => [f, await readFile(new URL(f, dir), 'utf8')] as const),
    );
    return new Map(files);
  } catch {
    return undefined;
  }
}

async function buildFromSource(): Promise<Map<string, string>> {
  const { build } = await import('esbuild');
  const entry = fileURLToPath(new URL('../../dashboard/main.ts', import.meta.url));
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    outdir: 'out',
    write: false,
    logLevel: 'silent',
  });
  return new Map(out.outputFiles.map((f) => [f.path.split('/').pop()!, f.text]));
}

function page(assets: Map<string, Asset>): string {
  const v = (f: string) => assets.get(f)!.hash;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Tasks dashboard</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/dashboard/main.css?v=${v('main.css')}" />
    <script type="module" src="/dashboard/main.js?v=${v('main.js')}"></script>
  </head>
  <body>
    <noscript>The dashboard needs JavaScript; the REST API is described at <a href="/docs">/docs</a>.</noscript>
  </body>
</html>
`;
}

export function dashboardRoutes(): Router<GatewayState> {
  const router = new Router<GatewayState>();
  let loading: Promise<Map<string, Asset>> | undefined;
  const assets = () =>
    (loading ??= (async () => {
      const files = (await loadBuilt()) ?? (await buildFromSource());
      return new Map(
        [...files].map(([f, body]) => [
          f,
          { body, type: TYPES[f]!, hash: createHash('sha256').update(body).digest('hex').slice(0, 16) },
        ]),
      );
    })().catch((err: unknown) => {
      loading = undefined; // try again on the next request
      throw err;
    }));

  router.get('dashboard', '/', async (ctx: GatewayContext) => {
    const a = await assets();
    ctx.set({
      'content-security-policy': CSP,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page(a);
  });

  router.get('dashboard-asset', '/dashboard/:file', async (ctx: GatewayContext) => {
    const asset = (await assets()).get(ctx.params.file ?? '');
    if (!asset) throw new HttpProblem('ROUTE_NOT_FOUND', 'no such dashboard asset');
    // The page names each asset with its content hash: a versioned URL never changes.
    const versioned = ctx.query.v === asset.hash;
    ctx.set({
      'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag: `"${asset.hash}"`,
      'x-content-type-options': 'nosniff',
    });
    ctx.type = asset.type;
    ctx.body = asset.body;
  });

  return router;
}
