/** Gateway cases about what a request asks for: operator injection, ids, limits, cursors, transitions, auth. */
import { API_KEY } from '../harness.js';
import { b64, KB, rawHttp, rest, status, taskPath, type AbuseCase } from './types.js';

const INJECTION = 'operator injection (REST)';
const hostileQueries: [query: string, name: string][] = [
  ['status[$ne]=queued', '$ne in ?status'],
  ['type[$regex]=.*', '$regex in ?type'],
  ['limit[$gt]=0', '$gt in ?limit'],
  ['$where=sleep(1000)', '$where as a parameter'],
  ['$nor[0][status]=queued', '$nor as a parameter'],
  ['cursor[$ne]=x', '$ne in ?cursor'],
  ['__proto__[status]=queued', '__proto__ parameter'],
  ['constructor[prototype][status]=queued', 'constructor.prototype parameter'],
  ['__proto__=x', 'bare __proto__ parameter'],
  ['status.$ne=queued', 'dotted key'],
  ['status=queued&status=running', 'repeated parameter'],
];
const hostileBodies: [body: unknown, name: string][] = [
  [{ type: { $ne: null } }, '$ne as the type'],
  [{ type: 'noop', priority: { $gt: 0 } }, '$gt as priority'],
  [{ type: 'noop', $where: 'sleep(1000)' }, '$where beside the fields'],
  [{ type: { $regex: '.*' } }, '$regex as the type'],
  [{ type: 'noop', $nor: [{}] }, '$nor beside the fields'],
  [{ type: 'noop', 'payload.x': 1 }, 'dotted key'],
  [{ type: 'noop', constructor: { prototype: { admin: true } } }, 'constructor.prototype'],
  [{ type: 'noop', runAt: { $gt: '' } }, '$gt as runAt'],
  ['{"type":"noop","__proto__":{"admin":true}}', '__proto__ key'],
];
export const restInjection: AbuseCase[] = [
  ...hostileQueries.map(([q, name]) =>
    rest(INJECTION, `query: ${name}`, 'GET', `/v1/tasks?${q}`, undefined, status('VALIDATION_FAILED')),
  ),
  rest(
    INJECTION,
    'events: $ne in ?status',
    'GET',
    '/v1/events?status[$ne]=x',
    undefined,
    status('VALIDATION_FAILED'),
  ),
  ...hostileBodies.map(([body, name]) =>
    rest(INJECTION, `create: ${name}`, 'POST', '/v1/tasks', body, status('VALIDATION_FAILED')),
  ),
  rest(
    INJECTION,
    'create: operator in a payload the type refuses',
    'POST',
    '/v1/tasks',
    { type: 'primes.count', payload: { upTo: { $gt: 1 } } },
    status('PAYLOAD_INVALID'),
  ),
  rest(
    INJECTION,
    'PATCH: $ne as the status',
    'PATCH',
    taskPath('queued'),
    { status: { $ne: 'x' } },
    status('VALIDATION_FAILED'),
  ),
  rest(
    INJECTION,
    'PATCH: $set beside the status',
    'PATCH',
    taskPath('queued'),
    { status: 'cancelled', $set: { status: 'succeeded' } },
    status('VALIDATION_FAILED'),
  ),
  rest(
    INJECTION,
    'PATCH: __proto__ key',
    'PATCH',
    taskPath('queued'),
    '{"status":"cancelled","__proto__":{"status":"succeeded"}}',
    status('VALIDATION_FAILED'),
  ),
  rest(
    INJECTION,
    'batch: $regex as a type',
    'POST',
    '/v1/tasks/batch',
    { tasks: [{ type: 'noop' }, { type: { $regex: '.*' } }] },
    status('VALIDATION_FAILED'),
  ),
  rest(
    INJECTION,
    'id: {"$ne":null} in the path',
    'GET',
    `/v1/tasks/${encodeURIComponent('{"$ne":null}')}`,
    undefined,
    status('TASK_NOT_FOUND'),
  ),
  rest(
    INJECTION,
    'id: $gt in the path of a PATCH',
    'PATCH',
    '/v1/tasks/$gt',
    { status: 'cancelled' },
    status('TASK_NOT_FOUND'),
  ),
];

const hostileIds: [path: string, name: string, everyRoute: boolean][] = [
  ['..%2F..%2Fetc%2Fpasswd', 'encoded ../', true],
  ['%2e%2e', 'encoded ..', false],
  ['%2e%2e%2f%2e%2e%2f', 'encoded ../../', false],
  ['..%5C..%5Cwindows', 'encoded ..\\', false],
  ['abc%00def', 'NUL inside', true],
  ['%00', 'NUL alone', false],
  ['a'.repeat(5000), '5,000 characters', false],
  ['%20', 'a space', false],
  ['%E0%A4%A', 'broken percent-encoding', false],
  ['no-such-task', 'well-formed but unknown', true],
];
export const ids: AbuseCase[] = [
  ...hostileIds.flatMap(([path, name, everyRoute]) => [
    rest('ids', `GET ${name}`, 'GET', `/v1/tasks/${path}`, undefined, status('TASK_NOT_FOUND')),
    ...(everyRoute
      ? [
          rest(
            'ids',
            `PATCH ${name}`,
            'PATCH',
            `/v1/tasks/${path}`,
            { status: 'cancelled' },
            status('TASK_NOT_FOUND'),
          ),
          rest(
            'ids',
            `events of ${name}`,
            'GET',
            `/v1/tasks/${path}/events`,
            undefined,
            status('TASK_NOT_FOUND'),
          ),
        ]
      : []),
  ]),
  {
    kind: 'raw',
    category: 'ids',
    name: 'raw NUL byte in the path',
    target: 'gateway',
    request: rawHttp(['GET /v1/tasks/a\u0000b HTTP/1.1', 'Host: x', 'Connection: close']),
    expect: { status: 400 },
  },
  {
    kind: 'raw',
    category: 'ids',
    name: 'unencoded ../ in the path',
    target: 'gateway',
    request: rawHttp([
      'GET /v1/tasks/../../etc/passwd HTTP/1.1',
      'Host: x',
      `Authorization: Bearer ${API_KEY}`,
      'Connection: close',
    ]),
    expect: { status: 404 },
  },
];

export const limits: AbuseCase[] = [
  '-1',
  '0',
  '501',
  '1e3',
  '99999999999999999999',
  'abc',
  '1.5',
  '%201',
  '0x10',
  '',
  '10%00',
  'Infinity',
].map((l) =>
  rest(
    'limits',
    `?limit=${l || '(empty)'}`,
    'GET',
    `/v1/tasks?limit=${l}`,
    undefined,
    status('VALIDATION_FAILED'),
  ),
);

const forgedCursors: [cursor: string, name: string][] = [
  ['garbage!!', 'not base64url'],
  [b64('not json'), 'base64 of text'],
  [b64({ $gt: '' }), 'base64 of an operator object'],
  [b64([1e20, 'a']), 'time outside the Date range'],
  [b64([0, '../x']), 'id with a slash'],
  [b64([0, { $ne: null }]), 'operator as the id'],
  [b64([0, 'a', 'extra']), 'three elements'],
  [b64(['0', 'a']), 'time as a string'],
  ['A'.repeat(400), '400 characters'],
];
export const cursors: AbuseCase[] = forgedCursors.map(([c, name]) =>
  rest(
    'cursors',
    `forged cursor: ${name}`,
    'GET',
    `/v1/tasks?cursor=${c}`,
    undefined,
    status('VALIDATION_FAILED'),
  ),
);

const TRANSITIONS = 'transitions (REST)';
export const restTransitions: AbuseCase[] = [
  ...(['succeeded', 'failed', 'cancelled'] as const).map((s) =>
    rest(
      TRANSITIONS,
      `cancel a ${s} task`,
      'PATCH',
      taskPath(s),
      { status: 'cancelled' },
      status('INVALID_TRANSITION'),
    ),
  ),
  ...(['queued', 'running', 'succeeded'] as const).map((s) =>
    rest(
      TRANSITIONS,
      `retry a ${s} task`,
      'PATCH',
      taskPath(s),
      { status: 'queued' },
      status('INVALID_TRANSITION'),
    ),
  ),
  ...(['running', 'succeeded', 'failed'] as const).map((s) =>
    rest(
      TRANSITIONS,
      `PATCH the status to ${s}`,
      'PATCH',
      taskPath('queued'),
      { status: s },
      status('VALIDATION_FAILED'),
    ),
  ),
  rest(
    TRANSITIONS,
    'PUT a task',
    'PUT',
    taskPath('queued'),
    { status: 'cancelled' },
    status('METHOD_NOT_ALLOWED'),
  ),
  rest(TRANSITIONS, 'DELETE a task', 'DELETE', taskPath('queued'), undefined, status('METHOD_NOT_ALLOWED')),
];

const AUTH = 'auth (gateway)';
const badAuthorizations: [authorization: string | null, name: string, everyRoute: boolean][] = [
  [null, 'missing', true],
  ['Bearer wrong-key-of-the-same-size', 'wrong key', true],
  ['Bearer ', 'empty bearer', false],
  ['Bearer', 'scheme only', false],
  ['Basic YWJ1c2U6Y29ycHVz', 'Basic scheme', false],
  [API_KEY, 'the key without a scheme', false],
  [`Bearer ${API_KEY},${API_KEY}`, 'the key twice', false],
  [`Bearer ${API_KEY}x`, 'the key with a suffix', false],
  [`Bearer ${API_KEY.slice(0, -1)}`, 'the key one character short', false],
  [`Bearer ${'k'.repeat(8 * KB)}`, '8 kB key', false],
  ['Bearer {"$ne":null}', 'operator object as the key', false],
];
export const restAuth: AbuseCase[] = [
  ...badAuthorizations.flatMap(([authorization, name, everyRoute]) => [
    rest(AUTH, `GET /v1/tasks, ${name}`, 'GET', '/v1/tasks', undefined, status('UNAUTHORIZED'), {
      authorization,
    }),
    ...(everyRoute
      ? [
          rest(
            AUTH,
            `POST /v1/tasks, ${name}`,
            'POST',
            '/v1/tasks',
            { type: 'noop' },
            status('UNAUTHORIZED'),
            { authorization },
          ),
          rest(
            AUTH,
            `PATCH a task, ${name}`,
            'PATCH',
            taskPath('queued'),
            { status: 'cancelled' },
            status('UNAUTHORIZED'),
            { authorization },
          ),
          rest(AUTH, `GET /v1/events, ${name}`, 'GET', '/v1/events', undefined, status('UNAUTHORIZED'), {
            authorization,
          }),
        ]
      : []),
  ]),
  rest(
    AUTH,
    'missing, with a broken body (auth answers first)',
    'POST',
    '/v1/tasks',
    '{',
    status('UNAUTHORIZED'),
    { authorization: null },
  ),
  {
    kind: 'raw',
    category: AUTH,
    name: 'Authorization with raw non-ASCII bytes',
    target: 'gateway',
    request: Buffer.concat([
      Buffer.from('GET /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer '),
      Buffer.from([0xc3, 0xa9, 0xff]),
      Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]),
    expect: { status: 401 },
  },
];
