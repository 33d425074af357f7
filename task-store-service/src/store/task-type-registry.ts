/** Registered task types, with their payload validators compiled once and cached briefly. */
import { createAjv, type TaskType, type TaskTypeDefinition, type ValidateFunction } from '@tasks/contracts';
import { AppError, isDuplicateKey } from '../app-error.js';
import type { Collections } from './collections.js';
import type { TaskTypeDoc, TypeSettingsDoc } from './documents.js';
import { linearRegExp } from './linear-regexp.js';

interface Entry {
  doc: TaskTypeDoc;
  validatePayload: ValidateFunction;
  loadedAt: number;
}

/** Other replicas register types too; a cached entry is re-read after this long. */
const CACHE_TTL_MS = 5_000;

/**
 * One Ajv per user schema: schemas carrying the same `$id` (a type re-registered with a new
 * schema) would clash in a shared instance. Compiling is rare: once per type and version.
 * Strict mode is off because user schemas may use keywords Ajv does not know; verbose, so that
 * a failed `not` can quote its subschema's description. Patterns run on a linear-time engine.
 */
function compileUserSchema(schema: object): ValidateFunction {
  return createAjv({ strict: false, verbose: true, code: { regExp: linearRegExp } }).compile(schema);
}

export class TaskTypeRegistry {
  private readonly cache = new Map<string, Entry>();

  constructor(private readonly collections: Collections) {}

  async register(workerId: string, types: TaskTypeDefinition[]): Promise<number> {
    const now = new Date();
    const docs = types.map((t, i): TaskTypeDoc => {
      for (const key of ['payloadSchema', 'resultSchema'] as const) {
        const schema = t[key];
        if (schema === undefined) continue;
        try {
          compileUserSchema(schema);
        } catch (err) {
          throw new AppError('VALIDATION_FAILED', `types[${i}].${key} is not a valid JSON Schema`, {
            fields: [
              { path: `/types/${i}/${key}`, message: err instanceof Error ? err.message : String(err) },
            ],
          });
        }
      }
      return {
        _id: t.type,
        kind: t.kind,
        description: t.description ?? null,
        payloadSchemaJson: JSON.stringify(t.payloadSchema),
        resultSchemaJson: t.resultSchema ? JSON.stringify(t.resultSchema) : null,
        timeoutMs: t.timeoutMs,
        maxAttempts: t.maxAttempts,
        registeredBy: workerId,
        updatedAt: now,
      };
    });
    for (const doc of docs) {
      await this.upsert(doc);
      this.cache.delete(doc._id);
    }
    return docs.length;
  }

  /**
   * Executors of a new version start together: their upserts of a new type all miss, all insert,
   * and all but one fail on `_id`. The type exists by then, so the loser's second try replaces it.
   */
  private async upsert(doc: TaskTypeDoc): Promise<void> {
    const replace = () => this.collections.taskTypes.replaceOne({ _id: doc._id }, doc, { upsert: true });
    try {
      await replace();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await replace();
    }
  }

  /** Every registered type, with its settings (docs/flow-control.md). */
  async list(): Promise<TaskType[]> {
    const [docs, settings] = await Promise.all([
      this.collections.taskTypes.find().sort({ _id: 1 }).toArray(),
      this.collections.settings.all(),
    ]);
    return docs.map((d) => toTaskType(d, settings.get(d._id)));
  }

  /** The type's definition and payload validator; UNKNOWN_TASK_TYPE (listing the known ones) if absent. */
  async get(type: string): Promise<Entry> {
    const cached = this.cache.get(type);
    if (cached && Date.now() - cached.loadedAt < CACHE_TTL_MS) return cached;
    const doc = await this.collections.taskTypes.findOne({ _id: type });
    if (!doc) {
      const known = (await this.collections.taskTypes.find({}, { projection: { _id: 1 } }).toArray()).map(
        (d) => d._id,
      );
      throw new AppError('UNKNOWN_TASK_TYPE', `unknown task type "${type}"`, { known });
    }
    const reuse = cached && cached.doc.updatedAt.getTime() === doc.updatedAt.getTime();
    const entry: Entry = {
      doc,
      validatePayload: reuse
        ? cached.validatePayload
        : compileUserSchema(JSON.parse(doc.payloadSchemaJson) as object),
      loadedAt: Date.now(),
    };
    this.cache.set(type, entry);
    return entry;
  }
}

function toTaskType(d: TaskTypeDoc, settings: TypeSettingsDoc | undefined): TaskType {
  return {
    type: d._id,
    kind: d.kind,
    ...(d.description !== null && { description: d.description }),
    payloadSchema: JSON.parse(d.payloadSchemaJson) as Record<string, unknown>,
    ...(d.resultSchemaJson !== null && {
      resultSchema: JSON.parse(d.resultSchemaJson) as Record<string, unknown>,
    }),
    timeoutMs: d.timeoutMs,
    maxAttempts: d.maxAttempts,
    registeredBy: d.registeredBy,
    updatedAt: d.updatedAt.toISOString(),
    paused: settings?.paused ?? false,
    concurrency: settings?.concurrency ?? null,
    ratePerSecond: settings?.ratePerSecond ?? null,
    retentionSeconds: settings?.retentionSeconds ?? null,
  };
}
