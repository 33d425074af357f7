/**
 * Where each node of a flow goes in its graph: one column per depth (the longest path from a node
 * without dependencies), rows ordered to keep edges short. Pure, no DOM, so tests can run it.
 */

export interface LayoutInput {
  key: string;
  dependsOn: readonly string[];
}

export interface Box {
  key: string;
  depth: number;
  /** Position in its column, from the top. */
  row: number;
  x: number;
  y: number;
}

export interface Edge {
  from: string;
  to: string;
  /** An SVG path from the right side of `from` to the left side of `to`. */
  d: string;
}

export interface Layout {
  boxes: Map<string, Box>;
  edges: Edge[];
  width: number;
  height: number;
}

export const GEOMETRY = {
  nodeWidth: 170,
  nodeHeight: 58,
  columnGap: 64,
  rowGap: 18,
  padding: 12,
} as const;

/**
 * The depth of each node: 0 without dependencies, else one more than its deepest dependency.
 * A dependency on a key the flow does not have is ignored; so is an edge that would close a cycle
 * (the store accepts neither, but a drawing should not hang on one).
 */
export function depths(nodes: readonly LayoutInput[]): Map<string, number> {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (key: string): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    if (visiting.has(key)) return -1; // a cycle: this edge does not count
    visiting.add(key);
    let d = 0;
    for (const dep of byKey.get(key)?.dependsOn ?? []) {
      if (byKey.has(dep)) d = Math.max(d, visit(dep) + 1);
    }
    visiting.delete(key);
    depth.set(key, d);
    return d;
  };
  for (const n of nodes) visit(n.key);
  return depth;
}

/**
 * Columns by depth; within a column nodes are ordered by the mean row of their dependencies (in
 * the flow's order when equal), and each column is centred on the tallest one.
 */
export function layout(nodes: readonly LayoutInput[], geometry = GEOMETRY): Layout {
  const { nodeWidth, nodeHeight, columnGap, rowGap, padding } = geometry;
  const depth = depths(nodes);
  const columns: LayoutInput[][] = [];
  for (const n of nodes) (columns[depth.get(n.key)!] ??= []).push(n);

  const row = new Map<string, number>();
  const order = new Map(nodes.map((n, i) => [n.key, i]));
  const weight = (n: LayoutInput): number => {
    const rows = n.dependsOn.map((d) => row.get(d)).filter((r): r is number => r !== undefined);
    return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : order.get(n.key)!;
  };
  for (const column of columns) {
    const sorted = [...column].sort((a, b) => weight(a) - weight(b) || order.get(a.key)! - order.get(b.key)!);
    column.splice(0, column.length, ...sorted);
    column.forEach((n, i) => row.set(n.key, i));
  }

  const tallest = Math.max(0, ...columns.map((c) => c.length));
  const boxes = new Map<string, Box>();
  columns.forEach((column, d) => {
    const offset = ((tallest - column.length) * (nodeHeight + rowGap)) / 2;
    column.forEach((n, i) =>
      boxes.set(n.key, {
        key: n.key,
        depth: d,
        row: i,
        x: padding + d * (nodeWidth + columnGap),
        y: padding + offset + i * (nodeHeight + rowGap),
      }),
    );
  });

  const edges: Edge[] = [];
  for (const n of nodes) {
    const to = boxes.get(n.key)!;
    for (const dep of n.dependsOn) {
      const from = boxes.get(dep);
      if (!from || from.depth >= to.depth) continue; // unknown key, or an edge of a cycle
      const x1 = from.x + nodeWidth;
      const y1 = from.y + nodeHeight / 2;
      const x2 = to.x;
      const y2 = to.y + nodeHeight / 2;
      const bend = (x2 - x1) / 2;
      edges.push({
        from: dep,
        to: n.key,
        d: `M${x1} ${y1} C${x1 + bend} ${y1} ${x2 - bend} ${y2} ${x2} ${y2}`,
      });
    }
  }

  return {
    boxes,
    edges,
    width: columns.length ? 2 * padding + columns.length * nodeWidth + (columns.length - 1) * columnGap : 0,
    height: tallest ? 2 * padding + tallest * nodeHeight + (tallest - 1) * rowGap : 0,
  };
}
