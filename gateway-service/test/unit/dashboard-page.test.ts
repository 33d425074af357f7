import { expect } from 'chai';
import { serveAppWithoutDeps, type ServedApp } from '../support/app-without-deps.js';

describe('dashboard page', function () {
  this.timeout(30_000); // the first request bundles the dashboard with esbuild
  let served: ServedApp;
  let base: string;
  before(async () => {
    // The page and its assets never reach the store, broker, publisher or hub.
    served = await serveAppWithoutDeps({ API_KEYS: 'k'.repeat(20) });
    base = served.base;
  });
  after(() => served.close());

  it('when / is fetched with auth on, then it is HTML with a strict CSP, no key needed, assets local', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    expect(res.headers.get('cache-control')).to.equal('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp)
      .to.include("default-src 'none'")
      .and.include("script-src 'self'")
      .and.include("connect-src 'self'");
    expect(csp).not.to.include('unsafe-inline');
    const html = await res.text();
    expect(html, 'no asset from another host').not.to.match(/(src|href)="(https?:)?\/\//);
    const assets = [...html.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.map((a) => a.split('?')[0])).to.have.members(['/dashboard/main.js', '/dashboard/main.css']);
    for (const asset of assets) {
      const a = await fetch(`${base}${asset}`);
      expect(a.status, asset).to.equal(200);
      expect(a.headers.get('content-type'), asset).to.match(
        asset.includes('.css') ? /^text\/css/ : /^text\/javascript/,
      );
      expect(a.headers.get('cache-control'), 'versioned URL cached for good').to.include('immutable');
      expect(a.headers.get('x-content-type-options')).to.equal('nosniff');
      expect((await a.text()).length, asset).to.be.greaterThan(1000);
    }
  });

  it('when an asset is fetched without its current hash, then it is served but not cached for good', async () => {
    const a = await fetch(`${base}/dashboard/main.js?v=old`);
    expect(a.status).to.equal(200);
    expect(a.headers.get('cache-control')).to.equal('no-cache');
  });

  it('when an unknown dashboard file is asked for, then 404 route-not-found', async () => {
    const res = await fetch(`${base}/dashboard/..%2Fpackage.json`);
    expect(res.status).to.equal(404);
    expect(((await res.json()) as { code: string }).code).to.equal('ROUTE_NOT_FOUND');
  });
});
