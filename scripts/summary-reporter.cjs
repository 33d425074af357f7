// Mocha's spec reporter plus, at the end, the files that took longest (hooks included: where the
// run's time goes) and one closing line, `tests: N passed, N failed, N skipped`, so that a run
// which executed nothing is visible.
const path = require('node:path');
const Mocha = require('mocha');

const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END } = Mocha.Runner.constants;
const SLOWEST = 12;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const msByFile = new Map();
    const began = new Map();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.file && suite.parent?.root) began.set(suite, Date.now());
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      const t0 = began.get(suite);
      if (t0 === undefined) return;
      const file = path.relative(process.cwd(), suite.file);
      msByFile.set(file, (msByFile.get(file) ?? 0) + Date.now() - t0);
    });
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      const slowest = [...msByFile].sort((a, b) => b[1] - a[1]).slice(0, SLOWEST);
      if (msByFile.size > SLOWEST) {
        process.stdout.write(`\nslowest files (of ${msByFile.size}):\n`);
        for (const [file, ms] of slowest)
          process.stdout.write(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file}\n`);
      }
      process.stdout.write(`\ntests: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}
module.exports = SummaryReporter;
