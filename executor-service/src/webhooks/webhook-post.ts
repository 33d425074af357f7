/**
 * One webhook POST under the SSRF rules of `http.request` (ssrf.ts): the host is resolved once,
 * every address must be public unless the host is in HTTP_ALLOW_HOSTS, and the connection goes to
 * the vetted address. Redirects are not followed (a 3xx is a failed attempt): the signed body is
 * for the URL the task named. The answer's body is read up to a small cap and dropped.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { vetTarget, type LookupAll } from '../ssrf/ssrf.js';

/** What an attempt came to: the receiver's status, or why there was none. */
export type PostOutcome = { statusCode: number } | { error: string };

const MAX_ANSWER_BYTES = 64 * 1024;

export async function postWebhook(
  target: { url: string; body: string; headers: Record<string, string> },
  options: { allowHosts: readonly string[]; timeoutMs: number; signal?: AbortSignal; lookupAll?: LookupAll },
): Promise<PostOutcome> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  try {
    const url = new URL(target.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { error: `not http(s): ${url.protocol}` };
    const vetted = await vetTarget(url, options.allowHosts, options.lookupAll);
    signal.throwIfAborted();
    const statusCode = await new Promise<number>((resolve, reject) => {
      const body = Buffer.from(target.body, 'utf8');
      const req = (url.protocol === 'https:' ? https : http).request(
        {
          // Connect to the vetted IP; the name only goes into Host, SNI and certificate checks.
          host: vetted.address,
          family: vetted.family,
          port: vetted.port,
          method: 'POST',
          path: `${url.pathname}${url.search}`,
          headers: { ...target.headers, host: url.host, 'content-length': String(body.length) },
          agent: false,
          signal,
          ...(isIP(vetted.hostname) === 0 && { servername: vetted.hostname }),
        },
        (res) => {
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_ANSWER_BYTES) res.destroy();
          });
          res.on('close', () => resolve(res.statusCode ?? 0));
          res.on('error', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    return { statusCode };
  } catch (err) {
    if (deadline.aborted) return { error: `no answer within ${options.timeoutMs} ms` };
    const e = err as { code?: unknown; message?: unknown };
    const text = typeof e.message === 'string' ? e.message : String(err);
    return { error: typeof e.code === 'string' && !text.includes(e.code) ? `${e.code}: ${text}` : text };
  }
}
