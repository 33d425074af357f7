/** Every scenario, in the order the runner takes them (later ones reuse earlier results). */
import { cpuPool } from './cpu-pool.js';
import { e2eBullmq } from './e2e-bullmq.js';
import { e2eOurs } from './e2e-ours.js';
import { e2eStored } from './e2e-stored.js';
import { executorMemory } from './executor-memory.js';
import type { Scenario } from '../lib/scenario.js';
import { listScaling } from './list-scaling.js';
import { rawLimits } from './raw-limits.js';
import { restLatency } from './rest-latency.js';

export const SCENARIOS: Scenario[] = [
  e2eOurs,
  e2eBullmq,
  e2eStored,
  rawLimits,
  restLatency,
  cpuPool,
  executorMemory,
  listScaling,
];
