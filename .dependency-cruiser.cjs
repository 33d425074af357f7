/**
 * `make lint`'s import-circle check (dependency-cruiser): no module of the production code may
 * reach itself through its imports, type-only imports included (a circle of types still ties
 * the files' meanings together).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: move what both sides need into a module of its own.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
  },
};
