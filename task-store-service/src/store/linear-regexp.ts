/**
 * The regex engine for users' payload schemas (`pattern`, `patternProperties`): RE2 semantics,
 * linear in the input, so a catastrophic pattern such as `^(a+)+$` cannot stall the store.
 * re2js is a pure-JavaScript port of RE2 (no native build). RE2 has no lookaround or
 * backreferences: such a pattern runs on the backtracking engine only when it cannot backtrack
 * exponentially (backtracking-risk.ts); otherwise the schema is refused when it is registered.
 */
import { RE2JS } from 're2js';
import { backtrackingRisk } from './backtracking-risk.js';

interface RegExpLike {
  test(input: string): boolean;
}

function re2(pattern: string): RegExpLike | undefined {
  try {
    // ECMAScript syntax (`\/`, `(?<name>…)`) translated to RE2's; Unicode is always on in RE2.
    const re = RE2JS.compile(RE2JS.translateRegExp(pattern));
    return { test: (input: string) => re.test(input) };
  } catch {
    return undefined;
  }
}

/** Ajv's `code.regExp` engine; `code` is only used by standalone code generation. */
export const linearRegExp = Object.assign(
  (pattern: string, flags: string): RegExpLike => {
    const linear = re2(pattern);
    if (linear) return linear;
    const risk = backtrackingRisk(pattern);
    if (risk !== undefined)
      throw new Error(`pattern "${pattern}" needs backtracking and could take exponential time (${risk})`);
    return new RegExp(pattern, flags);
  },
  { code: 'linearRegExp' },
);
