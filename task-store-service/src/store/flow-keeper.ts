/**
 * Finishes flow work a crash left half done (docs/flows.md): wakeup entries older than a grace are
 * picked up by any store replica. Each step is repeatable, so two replicas doing the same one is
 * harmless. Nothing here runs per task on the happy path: entries are deleted as soon as their
 * work is done, and the collection is usually empty.
 */
import type { Logger } from 'pino';
import type { Collections } from './collections.js';
import { retellById, settleById } from './flow-dependencies.js';
import { FLOW_CREATION_GRACE_MS, finishCreation } from './flow-creation.js';
import { finishCancel } from './flows.js';

/** A dependents wakeup older than this was left by a call that stopped (it takes milliseconds). */
const DEPENDENTS_GRACE_MS = 5_000;
const PER_PASS = 100;

export async function finishFlowWork(collections: Collections, log: Logger): Promise<number> {
  const now = Date.now();
  const entries = await collections.flowWakeups
    .find({ at: { $lt: new Date(now - DEPENDENTS_GRACE_MS) } })
    .sort({ at: 1 })
    .limit(PER_PASS)
    .toArray();
  let done = 0;
  for (const e of entries) {
    // One entry that fails (its node's document refused, say) must not hold back the others.
    try {
      if (e.kind === 'flow') {
        if (now - e.at.getTime() <= FLOW_CREATION_GRACE_MS) continue;
        const outcome = await finishCreation(collections, e.ref);
        log.warn({ flowId: e.ref, outcome }, 'an interrupted flow creation was finished by the flow keeper');
      } else {
        if (e.kind === 'cancel') {
          const n = await finishCancel(collections, e.ref);
          log.warn(
            { flowId: e.ref, cancelled: n },
            'an interrupted flow cancel was finished by the flow keeper',
          );
        } else
          await (e.kind === 'dependents' ? settleById(collections, e.ref) : retellById(collections, e.ref));
        await collections.flowWakeups.deleteOne({ _id: e._id });
      }
      done++;
    } catch (err) {
      log.warn({ err, wakeup: e._id }, 'flow keeper could not finish a wakeup entry; it tries again');
    }
  }
  if (done > 0) log.info({ done }, 'flow wakeups finished');
  return done;
}
