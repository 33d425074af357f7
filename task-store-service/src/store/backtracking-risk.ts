/**
 * Whether a pattern that RE2 cannot run (lookaround, backreferences) is safe to give to the
 * backtracking engine: exponential backtracking needs an unbounded quantifier (`*`, `+`, `{n,}`)
 * over a group that itself repeats or branches (`(a+)+`, `(a|a)*`), or a backreference. Such
 * patterns are refused; the rest backtrack at most polynomially on a bounded payload.
 */
interface Group {
  repeats: boolean;
  branches: boolean;
}

export function backtrackingRisk(pattern: string): string | undefined {
  const stack: Group[] = [{ repeats: false, branches: false }];
  let i = 0;
  let closed: Group | undefined; // the group that just ended, if the next token quantifies it
  while (i < pattern.length) {
    const ch = pattern[i]!;
    const top = stack[stack.length - 1]!;
    const quantifier = /^(?:[*+]|\{\d+,\d*\}|\?|\{\d+\})/.exec(pattern.slice(i))?.[0];
    if (quantifier) {
      const unbounded = /^(?:[*+]|\{\d+,\})$/.test(quantifier);
      if (unbounded && closed && (closed.repeats || closed.branches))
        return `the quantifier at ${i} repeats a group that repeats or branches`;
      top.repeats = true;
      i += quantifier.length;
      if (pattern[i] === '?' || pattern[i] === '+') i++; // lazy or possessive marker
      closed = undefined;
      continue;
    }
    closed = undefined;
    if (ch === '\\') {
      if (/^\\(?:[1-9]|k<)/.test(pattern.slice(i))) return `a backreference at ${i}`;
      i += 2;
    } else if (ch === '[') {
      i++;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
    } else if (ch === '(') {
      stack.push({ repeats: false, branches: false });
      // `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>`: the `?` is no quantifier.
      i += /^\(\?(?:[:=!]|<[=!]|<[A-Za-z_$][\w$]*>)/.exec(pattern.slice(i))?.[0].length ?? 1;
    } else if (ch === ')') {
      const group = stack.length > 1 ? stack.pop()! : top;
      const parent = stack[stack.length - 1]!;
      parent.repeats ||= group.repeats;
      parent.branches ||= group.branches;
      closed = group;
      i++;
    } else {
      if (ch === '|') top.branches = true;
      i++;
    }
  }
  return undefined;
}
