import { expect } from 'chai';
import { rejectsWith } from '../support/expect-store-error.js';
import { startStore, type StoreFixture } from '@tasks/testkit';

// 40 a's and a character that makes a backtracking engine try every split: 2^40 paths.
const EVIL_INPUT = `${'a'.repeat(40)}!`;

describe('payload schemas with catastrophic patterns (integration)', () => {
  let f: StoreFixture;
  beforeEach(async () => (f = await startStore()));
  afterEach(() => f.close());

  it('when a type with pattern ^(a+)+$ gets a payload of 40 a\'s and a "!", then the create is answered PAYLOAD_INVALID', async () => {
    await f.client.call('taskTypes.register', {
      workerId: 'test',
      types: [
        {
          type: 'test.evil-pattern',
          kind: 'io',
          payloadSchema: { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } } },
          timeoutMs: 1000,
          maxAttempts: 1,
        },
      ],
    });
    await rejectsWith(
      f.client.call('tasks.create', { type: 'test.evil-pattern', payload: { s: EVIL_INPUT } }),
      'PAYLOAD_INVALID',
    );
    const { task } = await f.client.call('tasks.create', {
      type: 'test.evil-pattern',
      payload: { s: 'aaaa' },
    });
    expect(task.status).to.equal('queued');
  });

  it('when a type uses ^(a+)+$ under patternProperties, then a payload key of 40 a\'s and a "!" is answered PAYLOAD_INVALID', async () => {
    await f.client.call('taskTypes.register', {
      workerId: 'test',
      types: [
        {
          type: 'test.evil-keys',
          kind: 'io',
          payloadSchema: {
            type: 'object',
            patternProperties: { '^(a+)+$': { type: 'integer' } },
            additionalProperties: false,
          },
          timeoutMs: 1000,
          maxAttempts: 1,
        },
      ],
    });
    await rejectsWith(
      f.client.call('tasks.create', { type: 'test.evil-keys', payload: { [EVIL_INPUT]: 1 } }),
      'PAYLOAD_INVALID',
    );
  });

  it('when a pattern needs backtracking (lookahead) and nests quantifiers, then registering it is refused', async () => {
    await rejectsWith(
      f.client.call('taskTypes.register', {
        workerId: 'test',
        types: [
          {
            type: 'test.evil-lookahead',
            kind: 'io',
            payloadSchema: { type: 'string', pattern: '^(?=a)(a+)+$' },
            timeoutMs: 1000,
            maxAttempts: 1,
          },
        ],
      }),
      'VALIDATION_FAILED',
    );
  });

  it('when a pattern needs a lookahead but cannot backtrack exponentially, then it is accepted and enforced', async () => {
    await f.client.call('taskTypes.register', {
      workerId: 'test',
      types: [
        {
          type: 'test.lookahead',
          kind: 'io',
          payloadSchema: {
            type: 'object',
            properties: { s: { type: 'string', pattern: '^(?!admin)[a-z]+$' } },
          },
          timeoutMs: 1000,
          maxAttempts: 1,
        },
      ],
    });
    await rejectsWith(
      f.client.call('tasks.create', { type: 'test.lookahead', payload: { s: 'admins' } }),
      'PAYLOAD_INVALID',
    );
    expect(
      (await f.client.call('tasks.create', { type: 'test.lookahead', payload: { s: 'alice' } })).created,
    ).to.equal(true);
  });
});
