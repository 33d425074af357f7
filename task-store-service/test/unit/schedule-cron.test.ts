import { expect } from 'chai';
import { dueTicks, nextTick, parseCron } from '../../src/store/schedule-cron.js';

const at = (iso: string) => new Date(iso);
const isoOf = (ds: Date[]) => ds.map((d) => d.toISOString());

describe('schedule cron: parsing and due ticks (unit)', () => {
  it('when a cron or a timezone is bad, then the refusal names that field', () => {
    for (const [cron, timezone, path] of [
      ['61 * * * *', 'UTC', '/cron'],
      ['* * *', 'UTC', '/cron'],
      ['* * * * * * 2030', 'UTC', '/cron'],
      ['0 0 30 2 *', 'UTC', '/cron'], // 30 February: never
      ['* * * * *', 'Mars/Olympus', '/timezone'],
    ] as const) {
      expect(() => parseCron(cron, timezone), `${cron} ${timezone}`)
        .to.throw()
        .that.deep.include({ type: 'VALIDATION_FAILED' })
        .and.has.nested.property('data.fields[0].path', path);
    }
  });

  it('when a six-field cron is given, then its first field is seconds', () => {
    const cron = parseCron('*/15 * * * * *', 'UTC');
    expect(isoOf(dueTicks(cron, at('2030-01-01T00:00:00Z'), at('2030-01-01T00:00:40Z')))).to.deep.equal([
      '2030-01-01T00:00:15.000Z',
      '2030-01-01T00:00:30.000Z',
    ]);
  });

  it('when the cron is read in a time zone, then its ticks are that zone’s wall-clock times', () => {
    const cron = parseCron('0 9 * * *', 'Europe/Berlin');
    expect(nextTick(cron, at('2030-01-01T00:00:00Z'), at('2030-01-01T00:00:00Z'))?.toISOString()).to.equal(
      '2030-01-01T08:00:00.000Z',
    );
  });

  it('when ticks were missed for longer than the catch-up window, then only the latest of the older ones fires', () => {
    const cron = parseCron('* * * * *', 'UTC');
    // Down from 10:00 to 10:30:30: 30 ticks missed. The window keeps 10:30; 10:29 stands for the rest.
    expect(isoOf(dueTicks(cron, at('2030-01-01T10:00:00Z'), at('2030-01-01T10:30:30Z')))).to.deep.equal([
      '2030-01-01T10:29:00.000Z',
      '2030-01-01T10:30:00.000Z',
    ]);
  });

  it('when ticks were missed within the catch-up window, then every one of them fires, oldest first', () => {
    const cron = parseCron('* * * * * *', 'UTC');
    const ticks = dueTicks(cron, at('2030-01-01T10:00:00Z'), at('2030-01-01T10:00:05.500Z'));
    expect(isoOf(ticks)).to.deep.equal([1, 2, 3, 4, 5].map((s) => `2030-01-01T10:00:0${s}.000Z`));
  });

  it('when nothing is due, then the next tick is the first after now, not one already handled', () => {
    const cron = parseCron('0 * * * *', 'UTC');
    const now = at('2030-01-01T10:20:00Z');
    expect(dueTicks(cron, at('2030-01-01T10:00:00Z'), now)).to.deep.equal([]);
    expect(nextTick(cron, at('2030-01-01T10:00:00Z'), now)?.toISOString()).to.equal(
      '2030-01-01T11:00:00.000Z',
    );
  });
});
