// The fault suite (`make test-faults`): the whole system under crashes, restarts and
// disconnects, against a private RabbitMQ node. Scenarios run in file order, one at a time.
// `npx mocha --config .mocharc.faults.cjs faults/scenarios/03-*.test.ts` runs the files named.
const named = process.argv.slice(2).some((a) => a.endsWith('.test.ts'));

module.exports = {
  'node-option': ['conditions=source', 'import=tsx'],
  require: ['dev-mongo/src/mocha-hooks.ts', 'faults/support/suite.ts'],
  ...(named ? {} : { spec: ['faults/scenarios/*.test.ts'] }),
  sort: true,
  reporter: 'scripts/summary-reporter.cjs',
  timeout: 8 * 60_000,
  exit: true,
};
