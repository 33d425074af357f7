/**
 * http.request aimed inward — refused at submit (422) when the URL shows it, else failed at run
 * time without a connection — and slow clients of every HTTP server.
 */
import { hostname } from 'node:os';
import type { Harness } from '../harness.js';
import { httpTask, internal, rest, status, type AbuseCase, type Lazy } from './types.js';

const SUBMIT = 'SSRF at submit';
const internalHosts = [
  '127.1',
  '2130706433',
  '0x7f.1',
  '0177.0.0.1',
  '[::1]',
  '[::ffff:127.0.0.1]',
  'localhost',
  'localhost.',
  'LocalHost',
  '127.0.0.1',
  '0.0.0.0',
  '10.0.0.1',
  '172.16.0.1',
  '192.168.0.1',
  '100.64.0.1',
  '[fd00::1]',
  '[fe80::1]',
];
const otherSchemes = [
  'file:///etc/passwd',
  'gopher://127.0.0.1:6379/_FLUSHALL',
  'ftp://127.0.0.1/',
  'dict://127.0.0.1:11211/stats',
  'javascript:alert(1)',
  'data:text/plain,x',
  '//127.0.0.1/',
];
export const ssrfSubmit: AbuseCase[] = [
  ...internalHosts.map((host) =>
    rest(SUBMIT, `http.request to ${host}`, 'POST', '/v1/tasks', internal(host), status('PAYLOAD_INVALID')),
  ),
  rest(
    SUBMIT,
    'http.request to 169.254.169.254 (cloud metadata)',
    'POST',
    '/v1/tasks',
    httpTask('http://169.254.169.254/latest/meta-data/iam/'),
    status('PAYLOAD_INVALID'),
  ),
  rest(
    SUBMIT,
    'userinfo that looks like the allowed host',
    'POST',
    '/v1/tasks',
    (h: Harness) => httpTask(`http://127.0.0.1:${h.allowedPort}@127.0.0.1:${h.internalPort}/`),
    status('PAYLOAD_INVALID'),
  ),
  rest(
    SUBMIT,
    'extra slashes and a backslash',
    'POST',
    '/v1/tasks',
    (h: Harness) => httpTask(`http:///\\127.0.0.1:${h.internalPort}/`),
    status('PAYLOAD_INVALID'),
  ),
  // Found by this corpus (while writing the submit-time rule): URL parsers drop the tab.
  rest(
    SUBMIT,
    'a tab inside the address',
    'POST',
    '/v1/tasks',
    (h: Harness) => httpTask(`http://127.0.0.\t1:${h.internalPort}/`),
    status('PAYLOAD_INVALID'),
  ),
  ...otherSchemes.map((url) =>
    rest(
      SUBMIT,
      `scheme: ${url.slice(0, 24)}`,
      'POST',
      '/v1/tasks',
      httpTask(url),
      status('PAYLOAD_INVALID'),
    ),
  ),
  rest(
    SUBMIT,
    'a batch with one internal URL creates nothing',
    'POST',
    '/v1/tasks/batch',
    (h: Harness) => ({ tasks: [{ type: 'noop' }, internal('127.1')(h)] }),
    status('PAYLOAD_INVALID'),
  ),
];

const RUNTIME = 'SSRF at run time';
const redirectTo = (to: Lazy<string>) => (h: Harness) =>
  `http://127.0.0.1:${h.allowedPort}/r?to=${encodeURIComponent(typeof to === 'function' ? to(h) : to)}`;
const redirects: [name: string, to: Lazy<string>, errorCode: string][] = [
  ['to 127.0.0.1', (h) => `http://127.0.0.1:${h.internalPort}/`, 'SSRF_BLOCKED'],
  ['to [::1]', (h) => `http://[::1]:${h.internalPort}/`, 'SSRF_BLOCKED'],
  ['to 2130706433', (h) => `http://2130706433:${h.internalPort}/`, 'SSRF_BLOCKED'],
  ['to localhost', (h) => `http://localhost:${h.internalPort}/`, 'SSRF_BLOCKED'],
  ['to 169.254.169.254', 'http://169.254.169.254/latest/meta-data/', 'SSRF_BLOCKED'],
  ['to file:///etc/passwd', 'file:///etc/passwd', 'REDIRECT_INVALID'],
  ['to gopher:', (h) => `gopher://127.0.0.1:${h.internalPort}/_x`, 'REDIRECT_INVALID'],
];
export const ssrfRuntime: AbuseCase[] = [
  ...redirects.map(([name, to, errorCode]): AbuseCase => ({
    kind: 'ssrf-runtime',
    category: RUNTIME,
    name: `a redirect from the allowed server ${name}`,
    url: redirectTo(to),
    expect: { errorCode },
  })),
  {
    kind: 'ssrf-runtime',
    category: RUNTIME,
    name: `a host name that resolves to loopback (${hostname()})`,
    url: (h) => `http://${hostname()}:${h.internalPort}/`,
    expect: { errorCode: 'SSRF_BLOCKED' },
  },
  {
    kind: 'ssrf-runtime',
    category: RUNTIME,
    name: 'fullwidth digits (the URL parser makes them 127.0.0.1)',
    url: (h) => `http://１２７.０.０.１:${h.internalPort}/`,
    expect: { errorCode: 'SSRF_BLOCKED' },
  },
  {
    kind: 'ssrf-runtime',
    category: RUNTIME,
    name: 'ideographic full stops (127。0。0。1)',
    url: (h) => `http://127。0。0。1:${h.internalPort}/`,
    expect: { errorCode: 'SSRF_BLOCKED' },
  },
];

export const slow: AbuseCase[] = (['gateway', 'store', 'executor'] as const).flatMap((target) =>
  (['headers', 'body', 'idle'] as const)
    .filter((mode) => target !== 'executor' || mode !== 'body')
    .map((mode): AbuseCase => ({
      kind: 'slow',
      category: 'slow clients',
      name: `${target}: ${mode === 'idle' ? 'an idle keep-alive connection' : `the ${mode} dribbled a byte at a time`}`,
      target,
      mode,
    })),
);
