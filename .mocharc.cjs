// One mocha run for every workspace. `npx mocha path/to/x.test.ts` runs just the files named.
const named = process.argv.slice(2).some((a) => a.endsWith('.test.ts'));

module.exports = {
  'node-option': ['conditions=source', 'import=tsx'],
  require: ['dev-mongo/src/mocha-hooks.ts'],
  ...(named
    ? {}
    : {
        spec: [
          'contracts/test/**/*.test.ts',
          'dev-mongo/test/**/*.test.ts',
          'service-runtime/test/**/*.test.ts',
          'task-store-service/test/**/*.test.ts',
          'executor-service/test/**/*.test.ts',
          'gateway-service/test/**/*.test.ts',
          'cli/test/**/*.test.ts',
          'e2e/**/*.test.ts',
        ],
      }),
  reporter: 'scripts/summary-reporter.cjs',
  timeout: 30_000,
  exit: true,
};
