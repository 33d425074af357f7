/**
 * `fn` over every item with at most `concurrency` calls in flight, results in the items' order.
 * Per-id lookups (findOne by `_id`) use this instead of one `$in`, which FerretDB 1.24 evaluates
 * over every row; the bound keeps one call from taking the whole MongoDB connection pool.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
