/** Gateway cases about the bytes of a request: malformed JSON, content types, sizes, nesting, unicode. */
import { API_KEY } from '../harness.js';
import { KB, nestedArrays, nestedObjects, rawHttp, rest, status, taskPath, type AbuseCase } from './types.js';

const MALFORMED = 'malformed JSON';
const malformedBodies: [name: string, body: string | Buffer][] = [
  ['truncated object', '{"type":"noop"'],
  ['trailing comma', '{"type":"noop",}'],
  ['single quotes', "{'type':'noop'}"],
  ['NaN literal', '{"type":"noop","priority":NaN}'],
  ['two documents', '{"type":"noop"}{"type":"noop"}'],
  ['top-level array', '[{"type":"noop"}]'],
  ['top-level string', '"noop"'],
  ['top-level null', 'null'],
  ['empty body', ''],
  ['invalid UTF-8 bytes', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
];
export const malformed: AbuseCase[] = [
  ...malformedBodies.map(([name, body]) =>
    rest(MALFORMED, name, 'POST', '/v1/tasks', body, status('VALIDATION_FAILED')),
  ),
  rest(
    MALFORMED,
    'PATCH with broken JSON',
    'PATCH',
    taskPath('queued'),
    '{"status":',
    status('VALIDATION_FAILED'),
  ),
  rest(
    MALFORMED,
    'batch with broken JSON',
    'POST',
    '/v1/tasks/batch',
    '{"tasks":[{]}',
    status('VALIDATION_FAILED'),
  ),
];

const contentTypeCases: [name: string, contentType: string, body: string][] = [
  ['text/plain', 'text/plain', '{"type":"noop"}'],
  ['form-urlencoded', 'application/x-www-form-urlencoded', 'type=noop'],
  ['multipart', 'multipart/form-data; boundary=x', '--x\r\n\r\n{}\r\n--x--'],
  ['none at all', '', '{"type":"noop"}'],
  ['a lookalike (application/jsonx)', 'application/jsonx', '{"type":"noop"}'],
  // Found by this corpus: decoded as UTF-8 regardless, and the task created (201).
  ['JSON in a charset other than UTF-8 (utf-7)', 'application/json; charset=utf-7', '{"type":"noop"}'],
  ['JSON in latin1', 'application/json; charset=ISO-8859-1', '{"type":"noop"}'],
];
export const contentTypes: AbuseCase[] = [
  ...contentTypeCases.map(([name, contentType, body]) =>
    rest('content type', name, 'POST', '/v1/tasks', body, status('UNSUPPORTED_MEDIA_TYPE'), {
      headers: { 'content-type': contentType },
    }),
  ),
  rest(
    'content type',
    'PATCH as XML',
    'PATCH',
    taskPath('queued'),
    '<status>cancelled</status>',
    status('UNSUPPORTED_MEDIA_TYPE'),
    {
      headers: { 'content-type': 'application/xml' },
    },
  ),
];

const SIZE = 'oversized';
export const sizes: AbuseCase[] = [
  rest(
    SIZE,
    'body over MAX_BODY_BYTES',
    'POST',
    '/v1/tasks',
    { type: 'noop', payload: { pad: 'x'.repeat(1100 * KB) } },
    status('PAYLOAD_TOO_LARGE'),
  ),
  rest(
    SIZE,
    'batch of 1,001 tasks',
    'POST',
    '/v1/tasks/batch',
    { tasks: Array.from({ length: 1001 }, () => ({ type: 'noop' })) },
    status('VALIDATION_FAILED'),
  ),
  rest(
    SIZE,
    'type name of 10,000 characters',
    'POST',
    '/v1/tasks',
    { type: 'a'.repeat(10_000) },
    status('VALIDATION_FAILED'),
  ),
  rest(
    SIZE,
    'cancel reason of 100,000 characters',
    'PATCH',
    taskPath('queued'),
    { status: 'cancelled', reason: 'r'.repeat(100_000) },
    status('VALIDATION_FAILED'),
  ),
  rest(
    SIZE,
    'Idempotency-Key of 300 characters',
    'POST',
    '/v1/tasks',
    { type: 'noop' },
    status('VALIDATION_FAILED'),
    {
      headers: { 'idempotency-key': 'k'.repeat(300) },
    },
  ),
  {
    kind: 'raw',
    category: SIZE,
    name: 'gateway: header block over MAX_HEADER_BYTES',
    target: 'gateway',
    request: rawHttp([
      'GET /v1/stats HTTP/1.1',
      'Host: x',
      `X-Pad: ${'a'.repeat(20 * KB)}`,
      'Connection: close',
    ]),
    expect: { status: 431 },
  },
  {
    kind: 'raw',
    category: SIZE,
    name: 'gateway: request line of 20 kB',
    target: 'gateway',
    request: rawHttp([`GET /v1/tasks/${'a'.repeat(20 * KB)} HTTP/1.1`, 'Host: x', 'Connection: close']),
    expect: { status: 431 },
  },
  {
    kind: 'raw',
    category: SIZE,
    name: 'gateway: content-length of 10 GB announced',
    target: 'gateway',
    request: rawHttp(
      [
        'POST /v1/tasks HTTP/1.1',
        'Host: x',
        `Authorization: Bearer ${API_KEY}`,
        'Content-Type: application/json',
        'Content-Length: 10000000000',
        'Connection: close',
      ],
      '{',
    ),
    expect: { status: 413 },
  },
];

// Found by this corpus: each of these was a 500 (JSON.stringify overflowed the stack).
const NESTING = 'deep nesting';
export const nesting: AbuseCase[] = [
  rest(
    NESTING,
    'payload nested 100,000 arrays deep',
    'POST',
    '/v1/tasks',
    `{"type":"noop","payload":{"x":${nestedArrays(100_000)}}}`,
    status('VALIDATION_FAILED'),
  ),
  rest(
    NESTING,
    'payload nested 50,000 objects deep',
    'POST',
    '/v1/tasks',
    `{"type":"noop","payload":${nestedObjects(50_000)}}`,
    status('VALIDATION_FAILED'),
  ),
  rest(
    NESTING,
    'payload nested 99 levels (just past the limit)',
    'POST',
    '/v1/tasks',
    `{"type":"noop","payload":${nestedObjects(98)}}`,
    status('VALIDATION_FAILED'),
  ),
  rest(
    NESTING,
    'batch entry nested 20,000 deep',
    'POST',
    '/v1/tasks/batch',
    `{"tasks":[{"type":"noop","payload":{"x":${nestedArrays(20_000)}}}]}`,
    status('VALIDATION_FAILED'),
  ),
  rest(
    NESTING,
    'PATCH reason as a nested array',
    'PATCH',
    taskPath('queued'),
    `{"status":"cancelled","reason":${nestedArrays(10_000)}}`,
    status('VALIDATION_FAILED'),
  ),
];

const UNICODE = 'unicode';
export const unicode: AbuseCase[] = [
  rest(
    UNICODE,
    'lone high surrogate in type',
    'POST',
    '/v1/tasks',
    '{"type":"noop\\ud800"}',
    status('VALIDATION_FAILED'),
  ),
  rest(
    UNICODE,
    'lone low surrogate as the whole type',
    'POST',
    '/v1/tasks',
    '{"type":"\\udc00"}',
    status('VALIDATION_FAILED'),
  ),
  rest(
    UNICODE,
    'lone surrogate in a cancel reason',
    'PATCH',
    taskPath('succeeded'),
    '{"status":"cancelled","reason":"\\ud800"}',
    status('INVALID_TRANSITION'),
  ),
  rest(
    UNICODE,
    'lone surrogate in a payload the type refuses',
    'POST',
    '/v1/tasks',
    '{"type":"primes.count","payload":{"upTo":"\\ud83d"}}',
    status('PAYLOAD_INVALID'),
  ),
  rest(
    UNICODE,
    'fullwidth letters in type',
    'POST',
    '/v1/tasks',
    { type: 'ｎｏｏｐ' },
    status('VALIDATION_FAILED'),
  ),
  rest(
    UNICODE,
    'right-to-left override in type',
    'POST',
    '/v1/tasks',
    { type: 'noop\u202e' },
    status('VALIDATION_FAILED'),
  ),
  rest(
    UNICODE,
    'zero-width joiner in status',
    'PATCH',
    taskPath('queued'),
    { status: 'cancel\u200dled' },
    status('VALIDATION_FAILED'),
  ),
  rest(
    UNICODE,
    'encoded lone surrogate in a task id',
    'GET',
    '/v1/tasks/%ED%A0%80',
    undefined,
    status('TASK_NOT_FOUND'),
  ),
  rest(
    UNICODE,
    'overlong UTF-8 slash in a task id',
    'GET',
    '/v1/tasks/%C0%AF',
    undefined,
    status('TASK_NOT_FOUND'),
  ),
  rest(
    UNICODE,
    'encoded lone surrogate in ?status',
    'GET',
    '/v1/tasks?status=%ED%A0%80',
    undefined,
    status('VALIDATION_FAILED'),
  ),
  rest(
    UNICODE,
    'non-ASCII Idempotency-Key',
    'POST',
    '/v1/tasks',
    { type: 'noop' },
    status('VALIDATION_FAILED'),
    {
      headers: { 'idempotency-key': 'clé' },
    },
  ),
  {
    kind: 'raw',
    category: UNICODE,
    name: 'raw UTF-8 bytes in the request line',
    target: 'gateway',
    request: Buffer.concat([
      Buffer.from('GET /v1/tasks/'),
      Buffer.from('é✓', 'utf8'),
      Buffer.from(` HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nConnection: close\r\n\r\n`),
    ]),
    expect: { status: 400 },
  },
];
