import { get, type IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { serveAppWithoutDeps, type ServedApp } from '../support/app-without-deps.js';

/** GET without URL normalisation (fetch would resolve `..` before sending). */
function rawGet(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }),
      );
    }).on('error', reject);
  });
}

describe('docs page', () => {
  let served: ServedApp;
  let base: string;
  let port: number;
  before(async () => {
    // The docs routes never reach the store, broker, publisher or hub.
    served = await serveAppWithoutDeps();
    base = served.base;
    port = served.port;
  });
  after(() => served.close());

  it('when /openapi.json is fetched, then it is the OpenAPI 3.1 document as JSON', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).to.equal('3.1.0');
    expect(doc.paths).to.have.property('/v1/tasks');
  });

  it('when /docs is fetched, then it is HTML whose local assets are all served with their types', async () => {
    const res = await fetch(`${base}/docs`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    const html = await res.text();
    expect(html).to.include('/openapi.json');
    expect(html, 'no asset from another host').not.to.match(/(src|href)="(https?:)?\/\//);

    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).to.have.length.greaterThan(1);
    for (const asset of assets) {
      const a = await fetch(`${base}${asset}`);
      expect(a.status, asset).to.equal(200);
      const expected = asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/;
      expect(a.headers.get('content-type'), asset).to.match(expected);
      expect((await a.arrayBuffer()).byteLength, asset).to.be.greaterThan(1000);
    }
  });

  for (const path of [
    '/docs/assets/../../package.json',
    '/docs/assets/..%2F..%2Fpackage.json',
    '/docs/assets/index.html', // in swagger-ui-dist, but not one of the page's assets
    '/docs/assets/nope.js',
  ]) {
    it(`when ${path} is requested, then it is a 404 problem`, async () => {
      const res = await rawGet(port, path);
      expect(res.status).to.equal(404);
      expect(res.type).to.match(/^application\/problem\+json/);
      expect((JSON.parse(res.body) as { type: string }).type).to.equal('/problems/route-not-found');
    });
  }
});
