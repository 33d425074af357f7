/**
 * Prints the Markdown tables of a results file again (e.g. after the table layout changed):
 *   npx tsx --conditions=source bench/e2e/render.ts [bench/results/e2e.json]
 */
import { readFileSync } from 'node:fs';
import { markdownTables, type E2eResults } from './report.js';

const file = process.argv[2] ?? new URL('../results/e2e.json', import.meta.url);
console.log(markdownTables(JSON.parse(readFileSync(file, 'utf8')) as E2eResults));
