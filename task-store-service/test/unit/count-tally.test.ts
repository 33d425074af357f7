import { expect } from 'chai';
import { Deltas, outcomesSince, Tally, toStatsCounts } from '../../src/store/count-tally.js';
import { countAtCut } from '../../src/store/count-recount.js';
import { CountWriter } from '../../src/store/count-writer.js';
import type { HistoryDoc } from '../../src/store/documents.js';

const at = (s: number) => new Date(s * 1000 + 500);

describe('kept counts: tallies, deltas and the cut (unit)', () => {
  it('when deltas cancel out, then the tally holds no row for them', () => {
    const t = new Tally().add('a', 'queued', 1).add('a', 'queued', -1).add('a.b', 'running', 2);
    expect(t.rows()).to.deep.equal([{ type: 'a.b', status: 'running', n: 2 }]);
  });

  it('when a writer records a create and two changes, then totals and outcomes follow them', () => {
    const w = new CountWriter();
    w.created('t', 'queued', at(100));
    w.changed('t', 'queued', 'running', at(101));
    w.changed('t', 'running', 'succeeded', at(102));
    w.changed('t', 'running', 'running', at(102)); // a heartbeat or re-claim changes no count
    const d = w.totals();
    expect(d.counts.rows()).to.deep.equal([{ type: 't', status: 'succeeded', n: 1 }]);
    expect(outcomesSince(d.toDoc().outcomes, 102)).to.deep.equal({ succeeded: 1, failed: 0 });
    expect(outcomesSince(d.toDoc().outcomes, 103)).to.deep.equal({ succeeded: 0, failed: 0 });
  });

  it('when deltas are split at a cut, then before() holds exactly those timed before it', () => {
    const d = new Deltas();
    d.add('t', 'queued', 1, at(100).getTime());
    d.add('t', 'queued', -1, at(101).getTime());
    d.add('t', 'running', 1, at(101).getTime());
    expect(d.before(101_000).rows()).to.deep.equal([{ type: 't', status: 'queued', n: 1 }]);
    expect(d.before(102_000).rows()).to.deep.equal([{ type: 't', status: 'running', n: 1 }]);
  });

  it('when a document round trip and a merge are made, then nothing is lost or doubled', () => {
    const a = new Deltas();
    a.add('t', 'failed', 1, at(5).getTime());
    const b = Deltas.fromDoc(a.toDoc()).merge(a);
    expect(b.counts.rows()).to.deep.equal([{ type: 't', status: 'failed', n: 2 }]);
    expect(outcomesSince(b.toDoc().outcomes, 0).failed).to.equal(2);
  });

  it('when a task changed after the cut, then its share is its status at the cut', () => {
    const h = (status: HistoryDoc['status'], s: number): HistoryDoc => ({
      status,
      at: at(s),
      by: 'x',
      attempt: 0,
    });
    const doc = {
      type: 't',
      status: 'succeeded' as const,
      history: [h('queued', 10), h('running', 20), h('succeeded', 30)],
    };
    expect(countAtCut(doc, 25_000, true).rows()).to.deep.equal([{ type: 't', status: 'running', n: 1 }]);
    expect(countAtCut(doc, 5_000, true).isEmpty).to.equal(true); // created after the cut
    expect(countAtCut(doc, 40_000, true).rows()).to.deep.equal([{ type: 't', status: 'succeeded', n: 1 }]);
  });

  it('when a count is negative (drift), then it reads as 0 and is reported', () => {
    const r = toStatsCounts(new Tally().add('t', 'queued', -1).add('t', 'running', 2));
    expect(r.negative).to.equal(true);
    expect(r.byStatus.queued).to.equal(0);
    expect(r.byType).to.deep.equal({ t: { running: 2 } });
  });

  it('when a transition is under way, then the writer reports itself settled only up to its time', async () => {
    const w = new CountWriter();
    const done = w.begin(new Date(1_000));
    const written: { settledThrough: Date }[] = [];
    const coll = { insertOne: (doc: { settledThrough: Date }) => written.push(doc) };
    await w.flush(coll as never);
    done();
    expect(written[0]!.settledThrough.getTime()).to.equal(1_000);
  });
});
