/**
 * Per-type settings (docs/flow-control.md): paused, concurrency, ratePerSecond; and retention
 * (docs/retention.md), which claims never read. Claims read them
 * from a per-process cache, so a type without settings costs nothing per task; a change made
 * through this process applies at once, one made through another store replica within
 * SETTINGS_TTL_MS.
 */
import type { TypeSettings } from '@tasks/contracts';
import type { Collection } from 'mongodb';
import type { TypeSettingsDoc } from './documents.js';

export const SETTINGS_TTL_MS = 1_000;

/** What a claim needs to know of a type's settings. */
export interface TypeRules {
  paused: boolean;
  concurrency: number | null;
  ratePerSecond: number | null;
}

const NO_RULES: TypeRules = { paused: false, concurrency: null, ratePerSecond: null };

export class TypeSettingsCache {
  /** Loads in flight are shared: the claims of one batch wait for one read and go on together. */
  private readonly cache = new Map<string, { rules: Promise<TypeRules>; at: number }>();
  /** Per rate key, the start time this process tries first (the one after its last): saves probes. */
  readonly nextStart = new Map<string, number>();

  constructor(
    private readonly coll: Collection<TypeSettingsDoc>,
    /** TASK_RETENTION_SECONDS: a type's retention when it has none of its own (docs/retention.md). */
    readonly defaultRetentionSeconds: number,
  ) {}

  rules(type: string): Promise<TypeRules> {
    const hit = this.cache.get(type);
    if (hit && Date.now() - hit.at < SETTINGS_TTL_MS) return hit.rules;
    const rules = this.coll.findOne({ _id: type }).then((doc): TypeRules => {
      return doc
        ? { paused: doc.paused, concurrency: doc.concurrency, ratePerSecond: doc.ratePerSecond }
        : NO_RULES;
    });
    this.cache.set(type, { rules, at: Date.now() });
    // A failed read is not kept: the next claim reads again.
    rules.catch(() => this.cache.delete(type));
    return rules;
  }

  async read(type: string): Promise<TypeSettings> {
    return settingsToWire(type, await this.coll.findOne({ _id: type }), this.defaultRetentionSeconds);
  }

  /** Every type that has settings (a small collection: one document per type an operator touched). */
  async all(): Promise<Map<string, TypeSettingsDoc>> {
    const docs = await this.coll.find({}).toArray();
    return new Map(docs.map((d) => [d._id, d]));
  }

  /** A value sets it, null lifts a limit, undefined keeps it. Last writer wins (an operator's call). */
  async update(
    type: string,
    change: {
      paused?: boolean;
      concurrency?: number | null;
      ratePerSecond?: number | null;
      retentionSeconds?: number | null;
    },
    by: string,
  ): Promise<TypeSettings> {
    const current = await this.coll.findOne({ _id: type });
    const doc: TypeSettingsDoc = {
      _id: type,
      paused: change.paused ?? current?.paused ?? false,
      concurrency: change.concurrency !== undefined ? change.concurrency : (current?.concurrency ?? null),
      ratePerSecond:
        change.ratePerSecond !== undefined ? change.ratePerSecond : (current?.ratePerSecond ?? null),
      retentionSeconds:
        change.retentionSeconds !== undefined ? change.retentionSeconds : (current?.retentionSeconds ?? null),
      updatedAt: new Date(),
      updatedBy: by,
    };
    await this.coll.replaceOne({ _id: type }, doc, { upsert: true });
    this.cache.delete(type);
    return settingsToWire(type, doc, this.defaultRetentionSeconds);
  }
}

export function settingsToWire(
  type: string,
  doc: TypeSettingsDoc | null | undefined,
  defaultRetentionSeconds: number,
): TypeSettings {
  const own = doc?.retentionSeconds ?? null;
  return {
    type,
    paused: doc?.paused ?? false,
    concurrency: doc?.concurrency ?? null,
    ratePerSecond: doc?.ratePerSecond ?? null,
    retentionSeconds: own,
    retention:
      own === null
        ? { seconds: defaultRetentionSeconds, source: 'default' }
        : { seconds: own, source: 'type' },
    updatedAt: doc ? doc.updatedAt.toISOString() : null,
    updatedBy: doc?.updatedBy ?? null,
  };
}
