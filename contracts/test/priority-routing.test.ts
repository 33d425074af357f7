/** Priority bands in the AMQP topology: names, routing keys and the work message (no I/O). */
import { expect } from 'chai';
import {
  createAjv,
  DELAY_STEPS_MS,
  PARAM_SCHEMAS,
  PRIORITY_BANDS,
  priorityBand,
  topology,
  topologyQueues,
  typeQueues,
  WORK_MESSAGE_SCHEMA,
  workMessage,
  workRoute,
  workRoutingKey,
  type WorkMessage,
} from '../src/index.js';

const t = topology('p');

describe('priority bands (unit)', () => {
  it('when a task has priority 0 or none, then it is routed to the type’s queue as before priorities', () => {
    expect(workRoute(t, { type: 'primes.count', priority: 0 }, 0)).to.deep.equal({
      exchange: 'p.work',
      routingKey: 'primes.count',
    });
    expect(workRoute(t, { type: 'primes.count' }, 0).routingKey).to.equal('primes.count');
    expect(t.typeQueue('primes.count')).to.equal('p.type.primes.count');
    expect(t.typeQueue('primes.count', 0)).to.equal('p.type.primes.count');
  });

  it('when a task has priority 1..9, then its routing key and queue name the band', () => {
    expect(workRoute(t, { type: 'primes.count', priority: 9 }, 0).routingKey).to.equal('primes.count:p9');
    expect(t.typeQueue('primes.count', 9)).to.equal('p.type.primes.count:p9');
    expect(t.typeQueue('primes.count', 1)).to.equal('p.type.primes.count:p1');
  });

  it('when a task is not due yet, then it goes to a delay queue with its band kept in the routing key', () => {
    const route = workRoute(t, { type: 'sleep', priority: 4 }, 5_000);
    expect(route.exchange).to.equal(t.waitQueue(4_000));
    expect(route.routingKey).to.equal('sleep:p4');
  });

  it('when type names are valid, then no type’s routing key is the band key of another', () => {
    const typeName = new RegExp(String(PARAM_SCHEMAS['tasks.create'].properties.type.pattern));
    for (const band of PRIORITY_BANDS.filter((b) => b > 0))
      expect(typeName.test(workRoutingKey('sleep', band)), `band ${band}`).to.equal(false);
  });

  it('when the bands are listed, then they are 9 down to 0 and every type has a queue per band', () => {
    expect(PRIORITY_BANDS).to.deep.equal([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const queues = typeQueues(t, 'noop');
    expect(queues).to.have.length(10);
    expect(queues[0]).to.equal('p.type.noop:p9');
    expect(queues[9]).to.equal('p.type.noop');
    const all = topologyQueues(t, ['noop', 'sleep']);
    expect(all).to.include.members([...queues, ...typeQueues(t, 'sleep')]);
    expect(all).to.have.length(1 + DELAY_STEPS_MS.length + 20);
  });

  it('when a stored priority lies outside 0..9 (tasks from before the range), then it goes to the nearest band', () => {
    expect(priorityBand(-5)).to.equal(0);
    expect(priorityBand(500)).to.equal(9);
    expect(priorityBand(undefined)).to.equal(0);
    expect(priorityBand(7)).to.equal(7);
  });

  it('when a work message is built from a task, then it carries the band; messages without one stay valid', () => {
    const msg = workMessage({ id: 'a', type: 'noop', kind: 'io', version: 2, priority: 12 });
    expect(msg).to.deep.equal({ taskId: 'a', type: 'noop', kind: 'io', version: 2, priority: 9 });
    const validate = createAjv().compile<WorkMessage>(WORK_MESSAGE_SCHEMA);
    expect(validate(msg)).to.equal(true);
    expect(
      validate({ taskId: 'a', type: 'noop', kind: 'io', version: 2 }),
      'an older version’s message',
    ).to.equal(true);
    expect(validate({ ...msg, priority: 10 })).to.equal(false);
    expect(
      workMessage({ id: 'a', type: 'noop', kind: 'io', version: 2, priority: 0 }),
      'band 0 is the message of the version before priorities, which its executors accept',
    ).to.deep.equal({ taskId: 'a', type: 'noop', kind: 'io', version: 2 });
    expect(validate({ ...msg, priority: 1.5 })).to.equal(false);
  });

  it('when a task is created, then its priority must be an integer 0..9', () => {
    const validate = createAjv().compile(PARAM_SCHEMAS['tasks.create']);
    for (const priority of [0, 5, 9])
      expect(validate({ type: 'noop', priority }), `${priority}`).to.equal(true);
    for (const priority of [-1, 10, 1000, 2.5, '5'])
      expect(validate({ type: 'noop', priority }), `${String(priority)}`).to.equal(false);
  });
});
