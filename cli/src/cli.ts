/**
 * Runs tasksctl once: commander parses argv, the action of the command named settles the exit
 * code. Nothing here reads process.env or exits: main.ts passes the environment in and exits
 * with the returned code, so tests run the whole CLI in-process.
 */
import type { CliIo } from './command.js';
import { EXIT, errorLine, exitCodeFor, type ExitCode } from './exit-codes.js';
import { buildProgram } from './program.js';

/** Runs one invocation; never throws, never exits. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    // With exitOverride, commander throws where it would exit: help and --version (0), usage errors.
    if (isCommanderExit(err)) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    io.stderr.write(errorLine(err));
    return exitCodeFor(err);
  }
  return code;
}

function isCommanderExit(err: unknown): err is { code: string; exitCode: number } {
  const e = err as { code?: unknown; exitCode?: unknown } | null;
  return typeof e?.code === 'string' && e.code.startsWith('commander.') && typeof e.exitCode === 'number';
}
