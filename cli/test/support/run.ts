/** Runs tasksctl in-process, as main.ts would, capturing stdout, stderr and the exit code. */
import { expect } from 'chai';
import { runCli } from '../../src/index.js';

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

export async function tasksctl(argv: string[], env: Record<string, string> = {}): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    version: '9.9.9-test',
  });
  return { code, stdout, stderr };
}

/** Every error is exactly one stderr line of the form `tasksctl: <TYPE>: <message>`. */
export function errorType(stderr: string): string | undefined {
  const lines = stderr.split('\n').filter(Boolean);
  if (lines.length !== 1) return undefined;
  return /^tasksctl: ([A-Z_]+): \S/.exec(lines[0]!)?.[1];
}

/** Column start offsets of an aligned table line, found from the header's words. */
export function columnStarts(header: string): number[] {
  return [...header.matchAll(/\S+( \S+)*/g)].map((m) => m.index);
}

/** A refused run: exit `code`, nothing on stdout, and one stderr line of the error `type`. */
export function expectRefused(outcome: Outcome, code: number, type: string): void {
  expect(outcome.code, outcome.stderr).to.equal(code);
  expect(outcome.stdout).to.equal('');
  expect(errorType(outcome.stderr), outcome.stderr).to.equal(type);
}
