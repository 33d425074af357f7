/**
 * Inserts into one collection that start in the same turn of the event loop — the calls of one
 * JSON-RPC batch, or requests that arrived together — go to the database as one `insertMany`
 * (`ordered: false`) instead of one `insertOne` each. Each caller still gets its own outcome:
 * a document the database refused (a duplicate `_id`, the fence or outbox entry that someone
 * else holds) rejects only its own caller, with the database's error code, so `isDuplicateKey`
 * works as with `insertOne`. A failure of the whole command (network, election) rejects every
 * caller in it, as their own `insertOne` would have failed. MongoDB and FerretDB 1.24 both report
 * per-document write errors of an unordered insertMany (docs/consistency.md).
 */
import {
  MongoBulkWriteError,
  type Collection,
  type Document,
  type OptionalUnlessRequiredId,
  type WriteError,
} from 'mongodb';

/** Most documents in one insertMany; the driver splits what exceeds the server's message size anyway. */
const MAX_DOCS = 1_000;

interface Waiting<T> {
  doc: OptionalUnlessRequiredId<T>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A document the database refused within an unordered insertMany, carrying the server's code. */
export class DocumentWriteError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'DocumentWriteError';
  }
}

export class BulkInserts<T extends Document> {
  private waiting: Waiting<T>[] = [];
  private scheduled = false;

  constructor(private readonly collection: Collection<T>) {}

  /** Resolves once the document is written; rejects as its own insertOne would have. */
  insert(doc: OptionalUnlessRequiredId<T>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ doc, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.waiting;
    this.waiting = [];
    for (let i = 0; i < all.length; i += MAX_DOCS) void this.write(all.slice(i, i + MAX_DOCS));
  }

  private async write(batch: Waiting<T>[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Waiting<T>];
      await this.collection.insertOne(only.doc).then(() => only.resolve(), only.reject);
      return;
    }
    try {
      await this.collection.insertMany(
        batch.map((w) => w.doc),
        { ordered: false },
      );
    } catch (err) {
      const refused = refusedDocuments(err);
      if (!refused) {
        for (const w of batch) w.reject(err);
        return;
      }
      batch.forEach((w, i) => {
        const own = refused.get(i);
        if (own) w.reject(own);
        else w.resolve();
      });
      return;
    }
    for (const w of batch) w.resolve();
  }
}

/** The refused documents by index, when the command itself went through (else undefined). */
function refusedDocuments(err: unknown): Map<number, DocumentWriteError> | undefined {
  if (!(err instanceof MongoBulkWriteError) || err.writeConcernError) return undefined;
  const errors: WriteError | readonly WriteError[] = err.writeErrors;
  const list: readonly WriteError[] = isList(errors) ? errors : [errors];
  if (list.length === 0) return undefined;
  return new Map(list.map((e) => [e.index, new DocumentWriteError(e.errmsg ?? 'write error', e.code)]));
}

function isList(errors: WriteError | readonly WriteError[]): errors is readonly WriteError[] {
  return Array.isArray(errors);
}
