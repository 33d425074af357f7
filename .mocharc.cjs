// One mocha run for every workspace; `npm test -- <files>` narrows it.
module.exports = {
  'node-option': ['conditions=source', 'import=tsx'],
  require: ['dev-mongo/src/mocha-hooks.ts'],
  spec: ['contracts/test/**/*.test.ts', 'task-store-service/test/**/*.test.ts'],
  reporter: 'scripts/summary-reporter.cjs',
  timeout: 30_000,
  exit: true,
};
