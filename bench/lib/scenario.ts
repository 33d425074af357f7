/**
 * What a benchmark scenario is to the runner (bench/run.ts): a name (its results file is
 * bench/results/<name>.json), a time budget per mode, and a run function that starts what it
 * needs on loopback, measures at least 3 runs, stops what it started, and returns its figures.
 */
import type { Cleanup } from './cleanup.js';
import type { PgStats } from './pg-stats.js';
import type { Budget } from './measure.js';

export interface MongoInfo {
  url: string;
  /** e.g. "FerretDB v1.24.2 (MongoDB 7.0.42 wire) on PostgreSQL" or "MongoDB 8.0.4". */
  server: string;
  source: string;
  /** The FerretDB process this runner started, for its CPU. */
  ferretPid: number | undefined;
  /** A real mongod (not FerretDB): only then is a 1,000,000-task list attempted. */
  realMongod: boolean;
  /** FerretDB's PostgreSQL, when it runs on one: databases are tuned there as `make start` tunes its own. */
  postgresqlUrl: string | undefined;
}

export interface RunContext {
  quick: boolean;
  /** This scenario's own budget (started when the scenario started). */
  budget: Budget;
  mongo: MongoInfo;
  /** FerretDB's own PostgreSQL database, when FerretDB runs on PostgreSQL (for its counters). */
  pg: PgStats | undefined;
  amqpUrl: string;
  redisUrl: string;
  /** Steps that stop what the scenario started; the runner runs what is left when it ends or times out. */
  cleanup: Cleanup;
  /** A progress line on stderr, stamped with the scenario's elapsed time. */
  log(line: string): void;
  /** The output of a scenario run earlier in this invocation, else its last results file, if any. */
  previous(name: string): ScenarioFile | undefined;
}

export interface ScenarioOutput {
  /** The parameters the scenario chose (N, rates, sizes) and why. */
  settings: Record<string, unknown>;
  /** Headline figures, medians and (min–max) ranges: what BENCHMARKS.md shows. */
  summary: Record<string, unknown>;
  /** Everything measured, per run. */
  details: unknown;
  notes: string[];
}

export interface Scenario {
  name: string;
  title: string;
  budgetSeconds: { full: number; quick: number };
  run(ctx: RunContext): Promise<ScenarioOutput>;
}

/** bench/results/<name>.json */
export interface ScenarioFile extends Partial<ScenarioOutput> {
  scenario: string;
  title: string;
  mode: 'quick' | 'full';
  command: string;
  date: string;
  durationSeconds: number;
  budgetSeconds: number;
  /** Set when the scenario failed or hit its hard timeout; the figures may then be missing. */
  error?: string;
  versions: Record<string, string>;
  machine: Record<string, unknown>;
  /** The load generator (this process) shares the 2 cores with the system under test. */
  loadGenerator: { cpuUserMs: number; cpuSystemMs: number; wallMs: number; cpuPctOfOneCore: number };
}
