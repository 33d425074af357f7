/**
 * `make lint`'s import checks (dependency-cruiser): no module may reach itself through its imports,
 * type-only imports included (a circle of types still ties the files' meanings together); and no
 * module reaches into another workspace's `src/` (or another folder's tests) by a relative path —
 * what a workspace shares, its package index (`@tasks/<name>`) exports; what tests share, testkit/.
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
    {
      name: 'no-other-workspace-internals',
      severity: 'error',
      comment:
        "Another workspace's src/ (or another folder's tests) by a relative path: export what is needed from its src/index.ts and import it as @tasks/<name>; what tests share belongs in testkit/.",
      // The dashboard's browser-only type check takes the contracts' wire types from their sources
      // on purpose, through this one file (its header says why).
      from: { path: '^([^/]+)/', pathNot: '^gateway-service/dashboard/contracts[.]ts$' },
      to: {
        dependencyTypes: ['local'],
        // every top-level folder with a src/ is a workspace, so one added later is covered too; a
        // test's helpers are not shared by path either: what tests share lives in testkit/
        path: '^([^/]+/(src|test)/|e2e/|faults/)',
        pathNot: '^$1/',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
  },
};
