/** A flow's nodes as a graph: checked to be a DAG, and put in an order that respects it. */
import type { FlowNodeSpec } from '@tasks/contracts';
import { AppError } from '../app-error.js';

/** Unknown keys, repeated keys, a node that depends on itself, cycles: one VALIDATION_FAILED for all. */
export function checkGraph(nodes: FlowNodeSpec[]): void {
  const fields: { path: string; message: string }[] = [];
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (index.has(n.key)) fields.push({ path: `/nodes/${i}/key`, message: `repeats the key "${n.key}"` });
    else index.set(n.key, i);
  });
  nodes.forEach((n, i) =>
    (n.dependsOn ?? []).forEach((d, j) => {
      if (!index.has(d))
        fields.push({ path: `/nodes/${i}/dependsOn/${j}`, message: `no node has the key "${d}"` });
      else if (d === n.key)
        fields.push({ path: `/nodes/${i}/dependsOn/${j}`, message: 'a node cannot depend on itself' });
    }),
  );
  if (fields.length === 0) {
    const cycle = findCycle(nodes);
    if (cycle) {
      fields.push({
        path: `/nodes/${index.get(cycle[0]!)}/dependsOn`,
        message: `the dependencies form a cycle: ${cycle.join(' → ')}`,
      });
    }
  }
  if (fields.length > 0) throw new AppError('VALIDATION_FAILED', 'the flow is not a valid graph', { fields });
}

/** Nodes in an order where every node comes after its dependencies (Kahn), or null on a cycle. */
export function topologicalOrder(nodes: { key: string; dependsOn?: string[] }[]): string[] | null {
  const waitingOn = new Map(nodes.map((n) => [n.key, new Set(n.dependsOn ?? [])]));
  const order: string[] = [];
  let ready = nodes.filter((n) => (n.dependsOn ?? []).length === 0).map((n) => n.key);
  while (ready.length > 0) {
    order.push(...ready);
    const done = new Set(ready);
    ready = [];
    for (const [key, deps] of waitingOn) {
      if (deps.size === 0) continue;
      for (const d of done) deps.delete(d);
      if (deps.size === 0) ready.push(key);
    }
  }
  return order.length === nodes.length ? order : null;
}

/** One cycle, as keys with the first repeated at the end, when there is one. */
function findCycle(nodes: FlowNodeSpec[]): string[] | null {
  if (topologicalOrder(nodes) !== null) return null;
  const deps = new Map(nodes.map((n) => [n.key, n.dependsOn ?? []]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (key: string): string[] | null => {
    if (state.get(key) === 'done') return null;
    if (state.get(key) === 'open') return [...path.slice(path.indexOf(key)), key];
    state.set(key, 'open');
    path.push(key);
    for (const d of deps.get(key) ?? []) {
      const found = visit(d);
      if (found) return found;
    }
    path.pop();
    state.set(key, 'done');
    return null;
  };
  for (const n of nodes) {
    const found = visit(n.key);
    if (found) return found;
  }
  return null;
}
