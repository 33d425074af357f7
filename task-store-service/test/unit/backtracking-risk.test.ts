import { expect } from 'chai';
import { backtrackingRisk } from '../../src/store/backtracking-risk.js';

describe('backtrackingRisk', () => {
  it('when an unbounded quantifier repeats a group that repeats or branches, then the pattern is risky', () => {
    for (const p of [
      '^(a+)+$',
      '(?=x)(a*)*',
      '^(a|aa)*$',
      '(?:(?:a)+b?)+',
      '(x{1,})*',
      '(a+){2,}',
      '((a)+)+',
    ])
      expect(backtrackingRisk(p), p).to.be.a('string');
  });

  it('when the pattern has a backreference, then it is risky', () => {
    expect(backtrackingRisk('(a)\\1')).to.be.a('string');
    expect(backtrackingRisk('(?<x>a)\\k<x>')).to.be.a('string');
  });

  it('when quantified groups are bounded or simple, then the pattern is accepted', () => {
    for (const p of [
      '^(?!x)[a-z]+$',
      '(?:\\.(?:25[0-5]|1?[0-9]))\\b{3}',
      '(?:[a-z]*\\.)?localhost(?=[/?#]|$)',
      '^(?:ab)+$',
      '[(a+)+]*',
      '\\(a+\\)+',
    ])
      expect(backtrackingRisk(p), p).to.equal(undefined);
  });
});
