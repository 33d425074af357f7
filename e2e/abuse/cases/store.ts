/** Task store (JSON-RPC) cases: protocol, operator injection, ids, limits, cursors, transitions, auth. */
import type { TaskStatus } from '@tasks/contracts';
import { RPC_TOKEN, type Harness } from '../harness.js';
import { b64, KB, nestedArrays, nestedObjects, rawHttp, rpcCall, rpcErr, type AbuseCase } from './types.js';

const PROTOCOL = 'JSON-RPC protocol';
const unknownMethods = [
  'tasks.drop',
  'rpc.discover',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'tasks.\ud800',
];
export const rpcProtocol: AbuseCase[] = [
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'not JSON',
    raw: '{"jsonrpc":"2.0",',
    expect: { http: 200, error: 'PARSE_ERROR' },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'invalid UTF-8',
    raw: Buffer.from([0x7b, 0xff, 0x7d]),
    expect: { http: 200, error: 'PARSE_ERROR' },
  },
  rpcErr(
    PROTOCOL,
    'a JSON string holding a request',
    JSON.stringify(rpcCall('tasks.stats', {})),
    'INVALID_REQUEST',
  ),
  rpcErr(PROTOCOL, 'a number', 42, 'INVALID_REQUEST'),
  rpcErr(PROTOCOL, 'null', null, 'INVALID_REQUEST'),
  rpcErr(PROTOCOL, 'empty object', {}, 'INVALID_REQUEST'),
  rpcErr(
    PROTOCOL,
    'jsonrpc "1.0"',
    { jsonrpc: '1.0', id: 1, method: 'tasks.stats', params: {} },
    'INVALID_REQUEST',
  ),
  rpcErr(PROTOCOL, 'jsonrpc missing', { id: 1, method: 'tasks.stats', params: {} }, 'INVALID_REQUEST'),
  rpcErr(
    PROTOCOL,
    'jsonrpc as the number 2',
    { jsonrpc: 2, id: 1, method: 'tasks.stats', params: {} },
    'INVALID_REQUEST',
  ),
  rpcErr(PROTOCOL, 'method missing', { jsonrpc: '2.0', id: 1, params: {} }, 'INVALID_REQUEST'),
  rpcErr(PROTOCOL, 'method as a number', { jsonrpc: '2.0', id: 1, method: 7, params: {} }, 'INVALID_REQUEST'),
  rpcErr(PROTOCOL, 'params as a string', rpcCall('tasks.stats', 'x'), 'INVALID_REQUEST'),
  rpcErr(PROTOCOL, 'params by position', rpcCall('tasks.get', ['x']), 'VALIDATION_FAILED'),
  rpcErr(PROTOCOL, 'id as an object', rpcCall('tasks.stats', {}, { $ne: null }), 'INVALID_REQUEST'),
  ...unknownMethods.map((m) =>
    rpcErr(PROTOCOL, `unknown method ${JSON.stringify(m)}`, rpcCall(m, {}), 'METHOD_NOT_FOUND'),
  ),
  rpcErr(PROTOCOL, 'empty method name', rpcCall('', {}), ['METHOD_NOT_FOUND', 'INVALID_REQUEST']),
  rpcErr(PROTOCOL, 'empty batch', [], 'INVALID_REQUEST'),
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'batch of non-requests',
    body: [1, 'x', null],
    expect: { http: 200, batchErrors: ['INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST'] },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'batch holding a batch',
    body: [[rpcCall('tasks.stats', {})]],
    expect: { http: 200, batchErrors: ['INVALID_REQUEST'] },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'batch: unknown method and bad params',
    body: [rpcCall('nope', {}, 1), rpcCall('tasks.get', { id: { $ne: null } }, 2)],
    expect: { http: 200, batchErrors: ['METHOD_NOT_FOUND', 'VALIDATION_FAILED'] },
  },
  // Found by this corpus: every call of a batch ran at once, however many there were.
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'oversized batch (10,000 calls)',
    body: Array.from({ length: 10_000 }, (_, i) => rpcCall('tasks.get', { id: `x${i}` }, i)),
    expect: { http: 200, error: 'INVALID_REQUEST' },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'batch one call over MAX_BATCH_CALLS (101 cancels)',
    body: (h: Harness) =>
      Array.from({ length: 101 }, (_, i) => rpcCall('tasks.cancel', { id: h.tasks.queued.id }, i)),
    expect: { http: 200, error: 'INVALID_REQUEST' },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'body over MAX_BODY_BYTES',
    raw: JSON.stringify(rpcCall('tasks.create', { type: 'noop', payload: { pad: 'x'.repeat(5_300 * KB) } })),
    expect: { http: 413, error: 'PAYLOAD_TOO_LARGE' },
  },
  // Found by this corpus: a bare -32603 (JSON.stringify overflowed the stack in tasks.create).
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'payload nested 100,000 deep',
    raw: `{"jsonrpc":"2.0","id":1,"method":"tasks.create","params":{"type":"noop","payload":{"x":${nestedArrays(100_000)}}}}`,
    expect: { http: 200, error: 'INVALID_REQUEST' },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'params nested 50,000 objects deep',
    raw: `{"jsonrpc":"2.0","id":1,"method":"tasks.stats","params":${nestedObjects(50_000)}}`,
    expect: { http: 200, error: 'INVALID_REQUEST' },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'text/plain',
    body: rpcCall('tasks.stats', {}),
    contentType: 'text/plain',
    expect: { http: 415, error: 'INVALID_REQUEST' },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'no content type',
    body: rpcCall('tasks.stats', {}),
    contentType: null,
    expect: { http: 415, error: 'INVALID_REQUEST' },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'GET /rpc',
    httpMethod: 'GET',
    expect: { http: 405, error: 'INVALID_REQUEST' },
  },
  {
    kind: 'rpc',
    category: PROTOCOL,
    name: 'PUT /rpc',
    httpMethod: 'PUT',
    body: rpcCall('tasks.stats', {}),
    expect: { http: 405, error: 'INVALID_REQUEST' },
  },
  {
    kind: 'raw',
    category: PROTOCOL,
    name: 'store: header block over MAX_HEADER_BYTES',
    target: 'store',
    request: rawHttp(['POST /rpc HTTP/1.1', 'Host: x', `X-Pad: ${'a'.repeat(20 * KB)}`, 'Connection: close']),
    expect: { status: 431 },
  },
  {
    kind: 'raw',
    category: PROTOCOL,
    name: 'store: broken chunked encoding',
    target: 'store',
    request: rawHttp(
      [
        'POST /rpc HTTP/1.1',
        'Host: x',
        `Authorization: Bearer ${RPC_TOKEN}`,
        'Content-Type: application/json',
        'Transfer-Encoding: chunked',
        'Connection: close',
      ],
      'zz\r\n{}\r\n0\r\n\r\n',
    ),
    expect: { status: 400 },
  },
  {
    kind: 'raw',
    category: PROTOCOL,
    name: 'store: content-length and chunked both (request smuggling)',
    target: 'store',
    request: rawHttp(
      [
        'POST /rpc HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        'Content-Length: 4',
        'Transfer-Encoding: chunked',
        'Connection: close',
      ],
      '0\r\n\r\n',
    ),
    expect: { status: 400 },
  },
];

const INJECTION = 'operator injection (JSON-RPC)';
const hostileParams: [method: string, params: unknown, name: string][] = [
  ['tasks.get', { id: { $ne: null } }, '$ne as the id'],
  ['tasks.get', { id: 'x', $where: 'sleep(1000)' }, '$where beside the id'],
  ['tasks.get', { id: { $regex: '.*' } }, '$regex as the id'],
  ['tasks.cancel', { id: { $gt: '' } }, '$gt as the id of a cancel'],
  ['tasks.retry', { id: { $ne: '' } }, '$ne as the id of a retry'],
  ['tasks.list', { status: { $in: ['queued', 'running'] } }, '$in as the status filter'],
  ['tasks.list', { type: { $regex: '.*' } }, '$regex as the type filter'],
  ['tasks.list', { $nor: [{ status: 'queued' }] }, '$nor as a filter'],
  ['tasks.list', { 'status.x': 'queued' }, 'dotted key'],
  ['tasks.list', { createdAfter: { $gt: '' } }, '$gt as createdAfter'],
  ['tasks.stats', { constructor: { prototype: { polluted: true } } }, 'constructor.prototype'],
  ['tasks.claim', { id: 'x', workerId: { $ne: 1 }, leaseMs: 5000 }, '$ne as the worker'],
  ['tasks.markPublished', { tasks: [{ id: { $ne: '' }, version: 1 }] }, '$ne in markPublished'],
  ['tasks.create', { type: 'noop', idempotencyKey: { $ne: null } }, '$ne as the idempotency key'],
  ['tasks.create', { type: { $ne: null } }, '$ne as the type'],
  ['tasks.createMany', { tasks: [{ type: 'noop', $where: '1' }] }, '$where in a createMany entry'],
  ['tasks.heartbeat', { id: 'x', leaseId: { $exists: true }, leaseMs: 5000 }, '$exists as the lease'],
  [
    'tasks.complete',
    { id: { $ne: null }, leaseId: { $ne: null }, result: {} },
    '$ne as id and lease of a complete',
  ],
  [
    'taskTypes.register',
    {
      workerId: 'x',
      types: [{ type: 'noop', kind: 'io', payloadSchema: {}, timeoutMs: 1, maxAttempts: 1, $set: 1 }],
    },
    '$set in a type definition',
  ],
];
export const rpcInjection: AbuseCase[] = [
  ...hostileParams.map(([m, p, name]) =>
    rpcErr(INJECTION, `${m}: ${name}`, rpcCall(m, p), 'VALIDATION_FAILED'),
  ),
  {
    kind: 'rpc',
    category: INJECTION,
    name: 'tasks.create: __proto__ key',
    raw: '{"jsonrpc":"2.0","id":1,"method":"tasks.create","params":{"type":"noop","__proto__":{"kind":"cpu"}}}',
    expect: { http: 200, error: 'VALIDATION_FAILED' },
  },
  {
    kind: 'rpc',
    category: INJECTION,
    name: 'tasks.list: __proto__ key',
    raw: '{"jsonrpc":"2.0","id":1,"method":"tasks.list","params":{"__proto__":{"status":"queued"}}}',
    expect: { http: 200, error: 'VALIDATION_FAILED' },
  },
  // Found by this corpus: accepted, and stored as U+FFFD, so every lone surrogate was one key.
  {
    kind: 'rpc',
    category: 'unicode',
    name: 'tasks.create: lone surrogate as the idempotency key',
    raw: '{"jsonrpc":"2.0","id":1,"method":"tasks.create","params":{"type":"noop","idempotencyKey":"\\ud800"}}',
    expect: { http: 200, error: 'VALIDATION_FAILED' },
  },
  {
    kind: 'rpc',
    category: 'unicode',
    name: 'tasks.cancel: lone surrogate as the actor',
    raw: '{"jsonrpc":"2.0","id":1,"method":"tasks.cancel","params":{"id":"x","by":"\\udfff"}}',
    expect: { http: 200, error: 'VALIDATION_FAILED' },
  },
];

const badIds: [id: unknown, name: string][] = [
  ['../etc/passwd', 'traversal'],
  ['%2e%2e%2f', 'encoded traversal'],
  ['a\u0000b', 'NUL inside'],
  ['x'.repeat(101), '101 characters'],
  ['x'.repeat(100_000), '100,000 characters'],
  ['', 'empty'],
  [42, 'a number'],
  [null, 'null'],
  [['a'], 'an array'],
];
export const rpcIds: AbuseCase[] = [
  ...badIds.map(([v, name]) =>
    rpcErr('ids (JSON-RPC)', `tasks.get id ${name}`, rpcCall('tasks.get', { id: v }), 'VALIDATION_FAILED'),
  ),
  rpcErr(
    'ids (JSON-RPC)',
    'tasks.cancel of an unknown id',
    rpcCall('tasks.cancel', { id: 'no-such-task' }),
    'TASK_NOT_FOUND',
  ),
];

const LIMITS = 'limits (JSON-RPC)';
export const rpcLimits: AbuseCase[] = [
  ...[-1, 0, 501, 1.5, '10', 1e300, null].map((l) =>
    rpcErr(
      LIMITS,
      `tasks.list limit ${JSON.stringify(l)}`,
      rpcCall('tasks.list', { limit: l }),
      'VALIDATION_FAILED',
    ),
  ),
  rpcErr(
    LIMITS,
    'tasks.listUnpublished limit 1,000,000',
    rpcCall('tasks.listUnpublished', { limit: 1_000_000 }),
    'VALIDATION_FAILED',
  ),
  rpcErr(
    LIMITS,
    'tasks.requeueExpired limit -5',
    rpcCall('tasks.requeueExpired', { limit: -5 }),
    'VALIDATION_FAILED',
  ),
  rpcErr(
    LIMITS,
    'tasks.claim leaseMs of a year',
    rpcCall('tasks.claim', { id: 'x', workerId: 'w', leaseMs: 31_536_000_000 }),
    'VALIDATION_FAILED',
  ),
];

const forgedCursors: [cursor: string, name: string][] = [
  [b64({ $gt: '' }), 'operator object'],
  [b64([8.7e15, 'a']), 'time outside the Date range'],
  [b64([0, 'a/b']), 'id with a slash'],
  ['!!', 'not base64url'],
  ['A'.repeat(301), '301 characters'],
];
export const rpcCursors: AbuseCase[] = forgedCursors.map(([c, name]) =>
  rpcErr(
    'cursors (JSON-RPC)',
    `forged cursor: ${name}`,
    rpcCall('tasks.list', { cursor: c }),
    'VALIDATION_FAILED',
  ),
);

const TRANSITIONS = 'transitions (JSON-RPC)';
const call = (method: string, params: (h: Harness) => Record<string, unknown>) => (h: Harness) =>
  rpcCall(method, params(h));
const task = (h: Harness, s: TaskStatus) => h.tasks[s];
const WRONG_LEASE = 'not-the-lease';
const failure = { code: 'X', message: 'x' };
export const rpcTransitions: AbuseCase[] = [
  ...(['running', 'succeeded', 'failed', 'cancelled'] as const).map((s) =>
    rpcErr(
      TRANSITIONS,
      `claim a ${s} task`,
      call('tasks.claim', (h) => ({ id: task(h, s).id, workerId: 'thief', leaseMs: 60_000 })),
      'INVALID_TRANSITION',
    ),
  ),
  rpcErr(
    TRANSITIONS,
    'claim a queued task before it is due',
    call('tasks.claim', (h) => ({ id: h.tasks.queued.id, workerId: 'thief', leaseMs: 60_000 })),
    'TASK_NOT_DUE',
  ),
  rpcErr(
    TRANSITIONS,
    'heartbeat a running task with the wrong lease',
    call('tasks.heartbeat', (h) => ({ id: h.tasks.running.id, leaseId: WRONG_LEASE, leaseMs: 60_000 })),
    'LEASE_LOST',
  ),
  rpcErr(
    TRANSITIONS,
    'complete a running task with the wrong lease',
    call('tasks.complete', (h) => ({ id: h.tasks.running.id, leaseId: WRONG_LEASE })),
    'LEASE_LOST',
  ),
  rpcErr(
    TRANSITIONS,
    'fail a running task with the wrong lease',
    call('tasks.fail', (h) => ({ id: h.tasks.running.id, leaseId: WRONG_LEASE, error: failure })),
    'LEASE_LOST',
  ),
  rpcErr(
    TRANSITIONS,
    'release a running task with the wrong lease',
    call('tasks.release', (h) => ({ id: h.tasks.running.id, leaseId: WRONG_LEASE })),
    'LEASE_LOST',
  ),
  rpcErr(
    TRANSITIONS,
    'complete a queued task with a made-up lease',
    call('tasks.complete', (h) => ({ id: h.tasks.queued.id, leaseId: WRONG_LEASE })),
    'LEASE_LOST',
  ),
  rpcErr(
    TRANSITIONS,
    'complete a succeeded task with another lease',
    call('tasks.complete', (h) => ({
      id: h.tasks.succeeded.id,
      leaseId: WRONG_LEASE,
      result: { forged: true },
    })),
    'LEASE_LOST',
  ),
  rpcErr(
    TRANSITIONS,
    'heartbeat a succeeded task with its old lease',
    call('tasks.heartbeat', (h) => ({
      id: h.tasks.succeeded.id,
      leaseId: h.tasks.succeeded.leaseId,
      leaseMs: 60_000,
    })),
    'INVALID_TRANSITION',
  ),
  rpcErr(
    TRANSITIONS,
    'release a failed task with its old lease',
    call('tasks.release', (h) => ({ id: h.tasks.failed.id, leaseId: h.tasks.failed.leaseId })),
    'INVALID_TRANSITION',
  ),
  rpcErr(
    TRANSITIONS,
    'complete a failed task with its old lease',
    call('tasks.complete', (h) => ({ id: h.tasks.failed.id, leaseId: h.tasks.failed.leaseId })),
    'INVALID_TRANSITION',
  ),
  rpcErr(
    TRANSITIONS,
    'fail a succeeded task with its old lease',
    call('tasks.fail', (h) => ({
      id: h.tasks.succeeded.id,
      leaseId: h.tasks.succeeded.leaseId,
      error: failure,
    })),
    'INVALID_TRANSITION',
  ),
  ...(['succeeded', 'failed', 'cancelled'] as const).map((s) =>
    rpcErr(
      TRANSITIONS,
      `cancel a ${s} task`,
      call('tasks.cancel', (h) => ({ id: task(h, s).id })),
      'INVALID_TRANSITION',
    ),
  ),
  ...(['queued', 'running', 'succeeded'] as const).map((s) =>
    rpcErr(
      TRANSITIONS,
      `retry a ${s} task`,
      call('tasks.retry', (h) => ({ id: task(h, s).id })),
      'INVALID_TRANSITION',
    ),
  ),
  {
    kind: 'rpc',
    category: TRANSITIONS,
    name: 'markPublished with a version that is not the task’s (nothing marked)',
    body: call('tasks.markPublished', (h) => ({
      tasks: [{ id: h.tasks.queued.id, version: h.tasks.queued.version + 7 }],
    })),
    expect: { http: 200, result: { marked: 0 } },
  },
  {
    kind: 'rpc',
    category: TRANSITIONS,
    name: 'a replayed complete of a succeeded task (its own lease, a new result)',
    body: call('tasks.complete', (h) => ({
      id: h.tasks.succeeded.id,
      leaseId: h.tasks.succeeded.leaseId,
      result: { forged: true },
    })),
    expect: {
      http: 200,
      result: (h) => ({
        id: h.tasks.succeeded.id,
        status: 'succeeded',
        version: h.tasks.succeeded.version,
        result: null,
      }),
    },
  },
];

const AUTH = 'auth (store)';
const badTokens: [token: string | null, name: string][] = [
  [null, 'missing'],
  ['wrong-token-of-the-same-size-', 'wrong token'],
  ['', 'empty bearer'],
  [`${RPC_TOKEN}x`, 'the token with a suffix'],
  [RPC_TOKEN.slice(0, -1), 'the token one character short'],
  [RPC_TOKEN.toUpperCase(), 'the token in upper case'],
  ['t'.repeat(8 * KB), '8 kB token'],
];
export const rpcAuth: AbuseCase[] = [
  ...badTokens.map(([token, name]): AbuseCase => ({
    kind: 'rpc',
    category: AUTH,
    name: `tasks.cancel with ${name}`,
    body: (h: Harness) => rpcCall('tasks.cancel', { id: h.tasks.queued.id }),
    token,
    expect: { http: 401, error: 'UNAUTHORIZED' },
  })),
  {
    kind: 'rpc',
    category: AUTH,
    name: 'a batch without a token',
    token: null,
    body: (h: Harness) => [rpcCall('tasks.cancel', { id: h.tasks.queued.id }), rpcCall('tasks.stats', {}, 2)],
    expect: { http: 401, error: 'UNAUTHORIZED' },
  },
  {
    kind: 'raw',
    category: AUTH,
    name: 'Basic scheme with the token',
    target: 'store',
    request: rawHttp(
      [
        'POST /rpc HTTP/1.1',
        'Host: x',
        `Authorization: Basic ${Buffer.from(`x:${RPC_TOKEN}`).toString('base64')}`,
        'Content-Type: application/json',
        'Content-Length: 2',
        'Connection: close',
      ],
      '{}',
    ),
    expect: { status: 401 },
  },
  {
    kind: 'raw',
    category: AUTH,
    name: 'token with raw non-ASCII bytes',
    target: 'store',
    request: Buffer.concat([
      Buffer.from('POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer '),
      Buffer.from([0xc3, 0xa9, 0xff]),
      Buffer.from('\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'),
    ]),
    expect: { status: 401 },
  },
];
