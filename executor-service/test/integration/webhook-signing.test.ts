import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';
import { postWebhook } from '../../src/webhooks/webhook-post.js';
import { webhookHeaders } from '../../src/webhooks/webhook-signature.js';

const SECRET = 'a-webhook-secret-of-at-least-32-characters';

describe('webhook signing and sending (executor)', () => {
  it('when headers are made, then the signature is v1= and the hex HMAC-SHA256 of "<timestamp>.<raw body>"', () => {
    const body = '{"id":"t1","status":"succeeded","note":"é"}';
    const headers = webhookHeaders(SECRET, 't1:3', body, 1_764_672_000_999);
    expect(headers['webhook-id']).to.equal('t1:3');
    expect(headers['webhook-timestamp']).to.equal('1764672000');
    expect(headers['content-type']).to.equal('application/json');
    const expected = createHmac('sha256', SECRET).update(`1764672000.${body}`).digest('hex');
    expect(headers['webhook-signature']).to.equal(`v1=${expected}`);
  });

  it('when WEBHOOK_SECRET is shorter than 32 characters, then the configuration names it; unset, webhooks are off', () => {
    expect(() => loadConfig({ WEBHOOK_SECRET: 'x'.repeat(31) }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.includes('WEBHOOK_SECRET');
    expect(loadConfig({}).webhookSecret).to.equal(undefined);
    expect(loadConfig({ WEBHOOK_SECRET: SECRET })).to.include({
      webhookSecret: SECRET,
      webhookTimeoutMs: 10_000,
    });
  });

  it('when the URL is internal and not allow-listed, then nothing is sent; allow-listed, the answer is reported and redirects are not followed', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const target = { url: `http://${host}/hook`, body: '{}', headers: webhookHeaders(SECRET, 't:2', '{}') };
      const blocked = await postWebhook(target, { allowHosts: [], timeoutMs: 2_000 });
      expect(blocked).to.have.property('error').that.includes('SSRF');
      expect(requests).to.equal(0);
      const answered = await postWebhook(target, { allowHosts: [host], timeoutMs: 2_000 });
      expect(answered).to.deep.equal({ statusCode: 302 });
      expect(requests).to.equal(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
