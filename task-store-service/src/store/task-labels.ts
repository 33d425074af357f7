/**
 * Tags and metadata as one top-level array of flat labels, `t:<tag>` and `m:<key>=<value>`
 * (docs/tags-and-bulk-actions.md). A filter names one label by equality — what FerretDB 1.24
 * pushes down (`_jsonb->'labels' @> '"t:x"'`, which a GIN jsonb_path_ops index serves for an
 * array holding the value) and what MongoDB serves from the multikey index `list_by_label` —
 * and the other labels of the filter are checked on what that equality returns. List pages read
 * by the same label scoped to the hour (`hourLabels`), whose index entries do not grow with history.
 */
import type { Filter } from 'mongodb';
import type { TaskDoc } from './documents.js';

export const tagLabel = (tag: string): string => `t:${tag}`;
/** Keys hold no `=`, so the first one in a label ends the key. */
export const metadataLabel = (key: string, value: string): string => `m:${key}=${value}`;

/**
 * A label scoped to the hour the task was created in (`<hour start ms>|<label>`): what list pages
 * read a bucket or an hour by. Its index entries grow with one hour's tasks, not with history,
 * so a common tag costs a page no more in a year than on its first day.
 */
export const hourLabel = (hour: number, label: string): string => `${hour}|${label}`;

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
 * The part of a filter within one hour (a bucket of it, or all of it) that asks for labels: the
 * first as an hour-scoped equality, the rest as in labelFilter.
 */
export function hourLabelFilter(hour: number, labels: readonly string[]): Filter<TaskDoc> {
  const { labels: first, ...rest } = labelFilter(labels);
  return typeof first === 'string' ? { ...rest, hourLabels: hourLabel(hour, first) } : {};
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
