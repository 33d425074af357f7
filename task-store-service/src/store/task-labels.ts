/**
 * Tags and metadata as one top-level array of flat labels, `t:<tag>` and `m:<key>=<value>`
 * (docs/tags-and-bulk-actions.md). A filter names one label by equality — what FerretDB 1.24
 * pushes down (`_jsonb->'labels' @> '"t:x"'`, which a GIN jsonb_path_ops index serves for an
 * array holding the value) and what MongoDB serves from the multikey index `list_by_label` —
 * and the other labels of the filter are checked on what that equality returns.
 */
import type { Filter } from 'mongodb';
import type { TaskDoc } from './documents.js';

export const tagLabel = (tag: string): string => `t:${tag}`;
/** Keys hold no `=`, so the first one in a label ends the key. */
export const metadataLabel = (key: string, value: string): string => `m:${key}=${value}`;

/** The labels of a task, or of a filter, in a stable order: tags as given, then metadata by key. */
export function labelsOf(tags: readonly string[] = [], metadata: Record<string, string> = {}): string[] {
  return [
    ...tags.map(tagLabel),
    ...Object.keys(metadata)
      .sort()
      .map((k) => metadataLabel(k, metadata[k]!)),
  ];
}

/**
 * The part of a filter that asks for labels: the first by top-level equality (the one FerretDB
 * pushes down and an index serves), the rest inside `$and`, checked on the rows it returns.
 */
export function labelFilter(labels: readonly string[]): Filter<TaskDoc> {
  const [first, ...rest] = labels;
  if (first === undefined) return {};
  return {
    labels: first,
    ...(rest.length > 0 && { $and: rest.map((label) => ({ labels: label })) }),
  };
}
