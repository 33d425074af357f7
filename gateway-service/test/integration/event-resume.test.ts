import { expect } from 'chai';
import { startGatewayFixture, type GatewayFixture } from '@tasks/testkit';

interface SseMessage {
  id?: string;
  event: string;
  data: unknown;
}

/** Reads SSE messages until `until` accepts the ones read so far, or the stream ends. */
async function readEvents(
  res: Response,
  until: (messages: SseMessage[]) => boolean,
  timeoutMs = 10_000,
): Promise<SseMessage[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const messages: SseMessage[] = [];
  let text = '';
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!until(messages)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(block)?.[1];
        const id = field('id');
        messages.push({
          ...(id !== undefined && { id }),
          event: field('event') ?? 'message',
          data: JSON.parse(field('data') ?? 'null'),
        });
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => undefined);
  }
  return messages;
}

const status = (messages: SseMessage[]) =>
  messages.filter((m) => m.event === 'status') as (SseMessage & {
    id: string;
    data: { taskId: string; status: string; version: number };
  })[];

describe('resumable event streams: Last-Event-ID (integration: store, RabbitMQ, FerretDB)', function () {
  this.timeout(30_000);
  let f: GatewayFixture;
  before(async () => (f = await startGatewayFixture()));
  after(() => f.close());

  const post = async () =>
    (await f.request('/v1/tasks', { method: 'POST', json: { type: 'test.sleep', payload: { ms: 1 } } })).body
      .id as string;

  it('when a client reconnects to /v1/events with Last-Event-ID, then it gets what changed meanwhile from the store, then live events', async () => {
    const first = await fetch(`${f.url}/v1/events?type=test.sleep`);
    const a = await post();
    const seen = await readEvents(first, (m) => status(m).some((e) => e.data.taskId === a));
    const lastId = status(seen).find((e) => e.data.taskId === a)!.id;
    expect(lastId).to.match(new RegExp(`^\\d+\\.1\\.${a}$`));

    // Disconnected: one task created, the one already seen cancelled.
    const b = await post();
    expect(
      (await f.request(`/v1/tasks/${a}`, { method: 'PATCH', json: { status: 'cancelled' } })).status,
    ).to.equal(200);

    const again = await fetch(`${f.url}/v1/events?type=test.sleep`, { headers: { 'last-event-id': lastId } });
    let c = '';
    const resumed = await readEvents(again, (m) => {
      if (m.some((x) => x.event === 'ready') && c === '') void post().then((id) => (c = id));
      return c !== '' && status(m).some((e) => e.data.taskId === c);
    });
    const ready = resumed.findIndex((m) => m.event === 'ready');
    const replayed = status(resumed.slice(0, ready));
    expect(replayed.map((e) => [e.data.taskId, e.data.status])).to.deep.include.members([
      [a, 'cancelled'],
      [b, 'queued'],
    ]);
    // A's first version was delivered before the disconnect: not again.
    expect(replayed.filter((e) => e.data.taskId === a).map((e) => e.data.version)).to.deep.equal([2]);
    expect(resumed[ready]!.data).to.deep.include({ complete: true });
    expect(resumed.some((m) => m.event === 'reset')).to.equal(false);
    expect(status(resumed.slice(ready)).map((e) => e.data.taskId)).to.include(c);
  });

  it('when Last-Event-ID is older than the replay window or not one of ours, then the stream says reset before ready', async () => {
    for (const lastId of [`${Date.now() - 11 * 60_000}.1.x`, 'garbage']) {
      const res = await fetch(`${f.url}/v1/events`, { headers: { 'last-event-id': lastId } });
      const got = await readEvents(res, (m) => m.some((x) => x.event === 'ready'));
      expect(got.map((m) => m.event)).to.deep.equal(['reset', 'ready']);
      expect(got[1]!.data).to.deep.equal({ replayed: 0, complete: false });
    }
  });

  it('when a client resumes one task’s stream with Last-Event-ID, then it gets the newer state only, and the stream of an ended task closes', async () => {
    const id = await post();
    expect(
      (await f.request(`/v1/tasks/${id}`, { method: 'PATCH', json: { status: 'cancelled' } })).status,
    ).to.equal(200);
    const from1 = await readEvents(
      await fetch(`${f.url}/v1/tasks/${id}/events`, { headers: { 'last-event-id': '1' } }),
      () => false,
    );
    expect(status(from1).map((e) => [e.id, e.data.status])).to.deep.equal([['2', 'cancelled']]);
    const from2 = await readEvents(
      await fetch(`${f.url}/v1/tasks/${id}/events`, { headers: { 'last-event-id': '2' } }),
      () => false,
    );
    expect(status(from2)).to.deep.equal([]);
  });
});
