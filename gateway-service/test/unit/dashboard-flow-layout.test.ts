import { expect } from 'chai';
import { depths, GEOMETRY, layout, type LayoutInput } from '../../dashboard/flow-layout.js';

const node = (key: string, ...dependsOn: string[]): LayoutInput => ({ key, dependsOn });

describe('dashboard flow graph layout', () => {
  // a → b, a → c, b → d, c → d
  const diamond = [node('a'), node('b', 'a'), node('c', 'a'), node('d', 'b', 'c')];

  it('when a diamond is laid out, then each node sits in the column of its depth', () => {
    expect(Object.fromEntries(depths(diamond))).to.deep.equal({ a: 0, b: 1, c: 1, d: 2 });
    const { boxes } = layout(diamond);
    expect(boxes.get('b')!.x).to.equal(boxes.get('c')!.x);
    expect(boxes.get('b')!.y).not.to.equal(boxes.get('c')!.y);
    expect(boxes.get('a')!.x).to.be.below(boxes.get('b')!.x);
    expect(boxes.get('b')!.x).to.be.below(boxes.get('d')!.x);
  });

  it('when a node has a short and a long way from a root, then its depth is the longest path', () => {
    // e waits for a directly and for d, two steps further on
    const d = depths([...diamond, node('e', 'a', 'd')]);
    expect(d.get('e')).to.equal(3);
  });

  it('when nodes come in any order, then depths do not depend on it', () => {
    expect(Object.fromEntries(depths([...diamond].reverse()))).to.deep.equal({ a: 0, b: 1, c: 1, d: 2 });
  });

  it('when a diamond is laid out, then there is one edge per dependency, left to right, and all fits', () => {
    const { boxes, edges, width, height } = layout(diamond);
    expect(edges.map((e) => `${e.from}>${e.to}`)).to.have.members(['a>b', 'a>c', 'b>d', 'c>d']);
    for (const e of edges) {
      const [x1, , , , , , x2] = e.d.match(/-?\d+(\.\d+)?/g)!.map(Number);
      expect(x1, e.d).to.equal(boxes.get(e.from)!.x + GEOMETRY.nodeWidth);
      expect(x2, e.d).to.equal(boxes.get(e.to)!.x);
    }
    for (const b of boxes.values()) {
      expect(b.x + GEOMETRY.nodeWidth).to.be.at.most(width);
      expect(b.y + GEOMETRY.nodeHeight).to.be.at.most(height);
    }
    // The single nodes of the outer columns are centred on the two of the middle one.
    expect(boxes.get('a')!.y).to.equal((boxes.get('b')!.y + boxes.get('c')!.y) / 2);
  });

  it('when a dependency is unknown or closes a cycle, then it is left out rather than hanging', () => {
    const d = depths([node('x', 'y', 'ghost'), node('y', 'x')]);
    expect([...d.keys()].sort()).to.deep.equal(['x', 'y']);
    const { edges } = layout([node('x', 'y', 'ghost'), node('y', 'x')]);
    expect(edges).to.have.length(1);
  });

  it('when a flow has no nodes, then the drawing is empty', () => {
    expect(layout([])).to.deep.include({ edges: [], width: 0, height: 0 });
  });
});
