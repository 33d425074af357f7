import { expect } from 'chai';
import { RunSlots } from '../../src/run-slots.js';

/** Acquires for each priority in turn and records the order in which the slots are granted. */
function waitAll(slots: RunSlots, priorities: number[], granted: string[]): Promise<boolean>[] {
  return priorities.map((p, i) =>
    slots.acquire(p).then((ok) => {
      if (ok) granted.push(`${p}#${i}`);
      return ok;
    }),
  );
}

describe('RunSlots (unit)', () => {
  it('when slots free up, then the waiting delivery of the highest priority gets one first, FIFO among equals', async () => {
    const slots = new RunSlots(1);
    expect(await slots.acquire(0)).to.equal(true);
    const granted: string[] = [];
    const waits = waitAll(slots, [0, 5, 9, 5, 0, 9], granted);
    expect(slots.waitingCount).to.equal(6);
    for (let i = 0; i < 6; i++) {
      slots.release();
      await Promise.resolve();
    }
    await Promise.all(waits);
    expect(granted).to.deep.equal(['9#2', '9#5', '5#1', '5#3', '0#0', '0#4']);
  });

  it('when a slot is free, then it is granted at once whatever the priority', async () => {
    const slots = new RunSlots(2);
    expect(await slots.acquire(0)).to.equal(true);
    expect(await slots.acquire(9)).to.equal(true);
    expect(slots.waitingCount).to.equal(0);
  });

  it('when the waits are cancelled, then every waiter gets false and no slot', async () => {
    const slots = new RunSlots(1);
    await slots.acquire();
    const granted: string[] = [];
    const waits = waitAll(slots, [3, 7], granted);
    slots.cancelWaiting();
    expect(await Promise.all(waits)).to.deep.equal([false, false]);
    expect(granted).to.deep.equal([]);
  });
});
