/**
 * A local HTTP server that receives completion webhooks (docs/webhooks.md) for the e2e and fault
 * tests: it keeps every request with its raw body, checks the signature exactly as a receiver
 * should, and answers what `answer` says (a status, or `null` to drop the connection).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  contentType: string;
  raw: string;
  /** The signature is `v1=` + hex HMAC-SHA256 of `<timestamp>.<raw body>` under the secret. */
  signatureValid: boolean;
  answered: number | null;
}

/** What a receiver must do: recompute the HMAC over the raw body, compare in constant time. */
export function verifySignature(secret: string, timestamp: string, raw: string, header: string): boolean {
  if (!/^[0-9]+$/.test(timestamp) || !header.startsWith('v1=')) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex');
  const given = Buffer.from(header.slice(3), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, Buffer.from(expected, 'utf8'));
}

export interface WebhookReceiver {
  url: string;
  /** 127.0.0.1:<port>, for HTTP_ALLOW_HOSTS. */
  host: string;
  received: ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startReceiver(
  secret: string,
  answer: (path: string, id: string, seen: number) => number | null = () => 200,
  port = 0,
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => String(req.headers[name] ?? '');
      const id = header('webhook-id');
      const seen = received.filter((r) => r.id === id).length;
      const status = answer(req.url ?? '/', id, seen);
      received.push({
        path: req.url ?? '/',
        id,
        timestamp: header('webhook-timestamp'),
        signature: header('webhook-signature'),
        contentType: header('content-type'),
        raw,
        signatureValid: verifySignature(
          secret,
          header('webhook-timestamp'),
          raw,
          header('webhook-signature'),
        ),
        answered: status,
      });
      if (status === null) res.socket?.destroy();
      else res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    host: `127.0.0.1:${actual}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
