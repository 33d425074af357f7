/**
 * Root hooks of the fault suite (`make test-faults`): one private RabbitMQ node for every
 * scenario, and the table of outcomes, printed at the end and kept in docs/reliability.md.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { format } from 'prettier';
import { startRabbitNode, type RabbitNode } from '@tasks/testkit';

export interface Row {
  scenario: string;
  load: string;
  fault: string;
  outcome: string;
  passed: boolean;
  seconds: number;
}

const rows: Row[] = [];
let node: RabbitNode | undefined;

/** The suite's RabbitMQ node (started by the root hook). */
export function rabbit(): RabbitNode {
  if (!node) throw new Error('the private RabbitMQ node is not running (root hook missing?)');
  return node;
}

export function report(row: Row): void {
  rows.push(row);
}

/** Scenarios in the suite; docs/reliability.md is rewritten only after a run of all of them. */
export const SCENARIO_COUNT = readdirSync(fileURLToPath(new URL('../scenarios', import.meta.url))).filter(
  (f) => f.endsWith('.test.ts'),
).length;

const DOC = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url));
const START = '<!-- faults-table:start -->';
const END = '<!-- faults-table:end -->';

function table(): string {
  const esc = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [
    '| # | Scenario | Load | Fault | Outcome | Result | Time |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r, i) =>
        `| ${i + 1} | ${esc(r.scenario)} | ${esc(r.load)} | ${esc(r.fault)} | ${esc(r.outcome)} | ${r.passed ? 'pass' : '**FAIL**'} | ${r.seconds.toFixed(0)} s |`,
    ),
  ].join('\n');
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(180_000);
    node = await startRabbitNode();
    process.stderr.write(`faults: private RabbitMQ node ${node.node} on ${node.url}\n`);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await node?.stop();
    if (rows.length === 0) return;
    const text = table();
    process.stdout.write(`\n${text}\n`);
    if (rows.length < SCENARIO_COUNT) {
      process.stdout.write(
        `(${rows.length} of ${SCENARIO_COUNT} scenarios ran: docs/reliability.md left as it was)\n`,
      );
      return;
    }
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
    const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    const block = `${START}\nLatest run: \`make test-faults\`, ${when} UTC, ${machine}, MongoDB-wire server: ${process.env.TEST_MONGO_SERVER ?? 'unknown'}.\n\n${text}\n${END}`;
    const doc = readFileSync(DOC, 'utf8');
    const from = doc.indexOf(START);
    const to = doc.indexOf(END);
    if (from < 0 || to < 0) throw new Error(`${DOC} has no ${START} … ${END} block to fill`);
    const updated = doc.slice(0, from) + block + doc.slice(to + END.length);
    writeFileSync(DOC, await format(updated, { filepath: DOC })); // as `make lint` wants it
  },
};
