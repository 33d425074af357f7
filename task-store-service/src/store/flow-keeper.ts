/**
 * Finishes flow work a crash left half done (docs/flows.md): wakeup entries older than a grace are
 * picked up by any store replica. Each step is repeatable, so two replicas doing the same one is
 * harmless. Nothing here runs per task on the happy path: entries are deleted as soon as their
 * work is done, and the collection is usually empty.
 */
import type { Logger } from 'pino';
import type { Collections } from './collections.js';
import { settleById } from './flow-dependencies.js';
import { FLOW_CREATION_GRACE_MS, finishCreation } from './flows.js';

/** A dependents wakeup older than this was left by a call that stopped (it takes milliseconds). */
const DEPENDENTS_GRACE_MS = 5_000;
const PER_PASS = 100;

export async function finishFlowWork(c: Collections, log: Logger): Promise<number> {
  const now = Date.now();
  const entries = await c.flowWakeups
    .find({ at: { $lt: new Date(now - DEPENDENTS_GRACE_MS) } })
    .sort({ at: 1 })
    .limit(PER_PASS)
    .toArray();
  let done = 0;
  for (const e of entries) {
    if (e.kind === 'dependents') {
      await settleById(c, e.ref);
      await c.flowWakeups.deleteOne({ _id: e._id });
      done++;
    } else if (now - e.at.getTime() > FLOW_CREATION_GRACE_MS) {
      const outcome = await finishCreation(c, e.ref);
      log.warn({ flowId: e.ref, outcome }, 'an interrupted flow creation was finished by the flow keeper');
      done++;
    }
  }
  if (done > 0) log.info({ done }, 'flow wakeups finished');
  return done;
}
