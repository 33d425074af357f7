/** Task statuses in the order the dashboard shows them, checked against the contracts' list. */
import type { TaskStatus } from './contracts.js';

// A record, not a list: the compiler insists on every status the contracts name (so a new one,
// like `waiting`, cannot be left out of the counts and the filter).
const SHOWN: Record<TaskStatus, true> = {
  waiting: true,
  queued: true,
  running: true,
  succeeded: true,
  failed: true,
  cancelled: true,
};

export const STATUSES = Object.keys(SHOWN) as TaskStatus[];
