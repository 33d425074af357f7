import { expect } from 'chai';
import type { StatusEvent, Task } from '@tasks/contracts';
import { EventHub, followTask } from '../../src/events/event-hub.js';
import { createMetrics } from '../../src/metrics.js';

/** A hub whose broker side is driven by the test. */
function hubWithFeed(maxBufferBytes = 1024 * 1024) {
  let feed: (body: unknown) => void = () => undefined;
  const hub = new EventHub(maxBufferBytes, createMetrics());
  hub.attach({ subscribe: (_key: string, fn: (body: unknown) => void) => (feed = fn) } as never);
  return { hub, publish: (e: Partial<StatusEvent>) => feed({ type: 't', attempts: 1, at: 'now', ...e }) };
}

const read = (s: NodeJS.ReadableStream) =>
  new Promise<string>((resolve) => {
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString()));
    s.on('end', () => resolve(text));
  });

describe('event hub (unit)', () => {
  it('when a client never reads, then its stream is closed once the buffer limit is passed and it is unsubscribed', () => {
    const { hub, publish } = hubWithFeed(2048);
    let seen = 0;
    const sub = hub.open((e, s) => {
      seen++;
      s.send('status', { ...e, pad: 'x'.repeat(200) });
    });
    for (let v = 1; v <= 100; v++) publish({ taskId: 'a', status: 'running', version: v });
    expect(sub.stream.writableEnded, 'stream ended').to.equal(true);
    expect(seen, 'no more events reach a closed stream').to.be.lessThan(100);
    const before = seen;
    publish({ taskId: 'a', status: 'running', version: 101 });
    expect(seen).to.equal(before);
  });

  it('when the hub closes all (shutdown), then every open stream ends with a shutdown event and gets nothing more', async () => {
    const { hub, publish } = hubWithFeed();
    let seen = 0;
    const subs = [1, 2].map(() => hub.open((e, s) => (seen++, s.send('status', e))));
    const texts = subs.map((s) => read(s.stream));
    hub.closeAll();
    publish({ taskId: 'a', status: 'running', version: 1 });
    expect(seen).to.equal(0);
    for (const text of await Promise.all(texts)) expect(text).to.equal('event: shutdown\ndata: {}\n\n');
  });

  it('when following a task, then the current state comes first, older events are dropped, and the stream ends at a terminal status', async () => {
    const { hub, publish } = hubWithFeed();
    const task = { id: 'a', status: 'running', version: 3 } as Task;
    const sub = followTask(
      hub,
      'a',
      () => Promise.resolve(task),
      (t) => t,
    );
    const text = read(sub.stream);
    await new Promise((r) => setImmediate(r));
    publish({ taskId: 'a', status: 'running', version: 2 }); // older than what was sent: dropped
    publish({ taskId: 'b', status: 'succeeded', version: 4 }); // another task: ignored
    publish({ taskId: 'a', status: 'succeeded', version: 4 });
    publish({ taskId: 'a', status: 'queued', version: 5 }); // after the end: not sent
    const ids = [...(await text).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).to.deep.equal([3, 4]);
  });

  it('when an event is missed, then the task is read again so the stream ends on the true state', async () => {
    const { hub, publish } = hubWithFeed();
    let current = { id: 'a', status: 'queued', version: 1 } as Task;
    const sub = followTask(
      hub,
      'a',
      () => Promise.resolve(current),
      (t) => t,
    );
    const text = read(sub.stream);
    await new Promise((r) => setImmediate(r));
    current = { id: 'a', status: 'succeeded', version: 3 } as Task;
    publish({ taskId: 'a', status: 'succeeded', version: 3 }); // version 2 never arrived
    const body = await text;
    expect([...body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).to.deep.equal([1, 3]);
  });
});
