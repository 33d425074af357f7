/** GET /openapi.json and GET /docs: the API description and a Swagger UI page that works offline. */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Router from '@koa/router';
import type { GatewayContext, GatewayState } from '../app-context.js';
import { HttpProblem } from '../middleware/problem-details.js';
import { openApiDocument } from '../openapi/document.js';

/** The only files served from swagger-ui-dist, by name: nothing the client sends reaches a path. */
const ASSETS = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
]);

// validatorUrl: null keeps the page from calling the public validator (offline, and no leak of the spec).
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Tasks API</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script>
      window.ui = SwaggerUIBundle({
        url: '/openapi.json',
        dom_id: '#swagger-ui',
        deepLinking: true,
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis],
        layout: 'BaseLayout',
      });
    </script>
  </body>
</html>
`;

export function docsRoutes(): Router<GatewayState> {
  const router = new Router<GatewayState>();
  const assetDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  let documentJson: string | undefined;

  router.get('openapi', '/openapi.json', (ctx: GatewayContext) => {
    documentJson ??= JSON.stringify(openApiDocument());
    ctx.type = 'application/json';
    ctx.body = documentJson;
  });

  router.get('docs', '/docs', (ctx: GatewayContext) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });

  router.get('docs-asset', '/docs/assets/:file', (ctx: GatewayContext) => {
    const file = ctx.params.file ?? '';
    const type = ASSETS.get(file);
    if (type === undefined) throw new HttpProblem('ROUTE_NOT_FOUND', 'no such documentation asset');
    ctx.set({ 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff' });
    ctx.type = type;
    ctx.body = createReadStream(path.join(assetDir, file));
  });

  return router;
}
